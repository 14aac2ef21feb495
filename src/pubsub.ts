import { createPubSub as createYogaPubSub, type PubSub } from "graphql-yoga";

/** Payloads carry ids only; subscription resolvers re-read the rows, so they never serve stale data. */
export type ConnectionUpdated = { orgId: string; connectionId: string };

export type Topics = {
  "connection:updated": [ConnectionUpdated];
};

export type GatewayPubSub = PubSub<Topics>;

/** In-process pubsub (issue 6 adds Redis for several instances). */
export function createPubSub(): GatewayPubSub {
  return createYogaPubSub<Topics>();
}
