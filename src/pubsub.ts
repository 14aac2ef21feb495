import { createPubSub as createYogaPubSub, type PubSub } from "graphql-yoga";

/** Payloads carry ids only; subscription resolvers re-read the rows, so they never serve stale data. */
export type ConnectionUpdated = { orgId: string; connectionId: string };
/** `id` is the row id of the synced object (or of the stored event). */
export type ObjectUpdated = { orgId: string; connectionId: string; id: string };
export type EventReceived = ObjectUpdated & { type: string };

export type Topics = {
  "connection:updated": [ConnectionUpdated];
  "payout:updated": [ObjectUpdated];
  "charge:updated": [ObjectUpdated];
  "refund:updated": [ObjectUpdated];
  "dispute:updated": [ObjectUpdated];
  "stripe-event:received": [EventReceived];
};

export type GatewayPubSub = PubSub<Topics>;

/** In-process pubsub (issue 6 adds Redis for several instances). */
export function createPubSub(): GatewayPubSub {
  return createYogaPubSub<Topics>();
}
