import { objectTopic } from "../pubsub.ts";
import { type ResourceSpec, rowId } from "../stripe/resources.ts";
import type { SyncDeps } from "./sync-deps.ts";

/** Announces a new state of a synced object to its resource's subscribers (resources that are live). */
export function publishObject(
  deps: Pick<SyncDeps, "pubsub">,
  resource: ResourceSpec,
  connection: { id: string; orgId: string },
  stripeId: string,
) {
  if (!resource.graphql.live) return;
  deps.pubsub.publish(objectTopic(resource.object), {
    orgId: connection.orgId,
    connectionId: connection.id,
    id: rowId(connection.id, stripeId),
  });
}
