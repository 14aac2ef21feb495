import { type ChangeRecorder, objectChangeType, withChanges } from "../feed/change-log.ts";
import type { ResourceSpec } from "../stripe/resources.ts";
import type { SyncDeps, Writer } from "./sync-deps.ts";
import {
  type ObjectChange,
  type UpsertOptions,
  type UpsertResult,
  upsertObjects,
  type VersionedObject,
} from "./upsert.ts";

type Connection = { id: string; orgId: string; livemode: boolean | null };

/** Enters what a write did to objects into the transaction's change log. */
export function recordObjectChanges(
  changes: ChangeRecorder,
  resource: Pick<ResourceSpec, "object">,
  connection: Pick<Connection, "id" | "orgId">,
  objectChanges: ReadonlyMap<string, ObjectChange>,
  stripeEventId: string | null = null,
) {
  for (const [objectId, kind] of objectChanges)
    changes.record({
      orgId: connection.orgId,
      connectionId: connection.id,
      type: objectChangeType(resource.object, kind),
      objectId,
      stripeEventId,
    });
}

/**
 * Writes objects of one resource read from Stripe (a list page, a re-read) in their own transaction,
 * with the changes they make in the change log: the one way backfill, per-parent lists and re-reads store.
 */
export async function storeObjects(
  deps: SyncDeps,
  resource: ResourceSpec,
  connection: Connection,
  items: VersionedObject[],
  options: UpsertOptions = {},
  /** More to write in the same transaction, knowing what was stored (a backfill's cursor). */
  alsoWrite?: (tx: Writer, result: UpsertResult) => Promise<unknown>,
): Promise<UpsertResult> {
  const { result } = await withChanges(deps, [connection.orgId], async (tx, changes) => {
    const written = await upsertObjects(tx, resource, connection, items, deps.clock.now(), options);
    recordObjectChanges(changes, resource, connection, written.changes);
    await alsoWrite?.(tx, written);
    return written;
  });
  return result;
}
