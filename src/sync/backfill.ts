import Stripe from "stripe";
import type { StripeConnection } from "../generated/prisma/client.ts";
import {
  PER_PARENT_RESOURCES,
  type PerParentResource,
  RESOURCES,
  type ResourceSpec,
  SINGLETONS,
} from "../stripe/resources.ts";
import { listChildrenOf, parentsAfter } from "./per-parent.ts";
import { publishObject } from "./publish.ts";
import { readSingleton } from "./singletons.ts";
import type { SyncDeps } from "./sync-deps.ts";
import { describeSyncProblem } from "./sync-problem.ts";
import { readSyncState, writeSyncState } from "./sync-state.ts";
import { upsertObjects } from "./upsert.ts";

type Connection = Pick<
  StripeConnection,
  "id" | "orgId" | "livemode" | "eventsPolledUntil" | "stripeAccountId"
>;

/** Thrown by a heartbeat when the instance stops: the work ends, resumable from the saved cursors. */
export class SyncStopped extends Error {
  override name = "SyncStopped";
}

/**
 * Copies everything the app may read, as the registry lists it: each singleton (the account, its balance),
 * every top-level list (100 per page, newest first), then the per-parent lists (a reconciled payout's
 * balance transactions, a refunded fee's refunds). Progress is saved after each page, so a restarted
 * backfill resumes where it stopped. A resource the app lacks the permission for is marked "forbidden"
 * and skipped; anything else fails the backfill (retried later).
 */
export async function backfillConnection(
  deps: SyncDeps,
  connection: Connection,
  heartbeat: () => Promise<void>,
) {
  if (!connection.eventsPolledUntil) {
    // The poller reads events from here on: anything before is in the data backfill copies.
    await deps.db.prisma.stripeConnection.updateMany({
      where: { id: connection.id, eventsPolledUntil: null },
      data: { eventsPolledUntil: deps.clock.now() },
    });
  }
  for (const singleton of SINGLETONS) {
    await once(deps, connection.id, singleton.key, heartbeat, async (_cursor, saveProgress) => {
      await readSingleton(deps, singleton, connection);
      await saveProgress(null, 1);
    });
  }
  for (const resource of RESOURCES as readonly ResourceSpec[]) {
    if (resource.list) await backfillList(deps, connection, resource, resource.list, heartbeat);
  }
  for (const resource of PER_PARENT_RESOURCES) await backfillPerParent(deps, connection, resource, heartbeat);
}

async function backfillList(
  deps: SyncDeps,
  connection: Connection,
  resource: ResourceSpec,
  list: NonNullable<ResourceSpec["list"]>,
  heartbeat: () => Promise<void>,
) {
  await once(deps, connection.id, resource.key, heartbeat, async (cursor, saveProgress) => {
    for await (const page of deps.stripeApi.list(connection, list.path, list.params, cursor)) {
      const { written, objects, skipped } = await upsertObjects(
        deps.db.prisma,
        resource,
        connection,
        page.data.map((object) => ({ object, versionAt: page.readAt })),
        deps.clock.now(),
        { log: deps.logger },
      );
      // Subscribers hear of backfilled objects the same way as of webhook updates.
      for (const stripeId of written) publishObject(deps, resource, connection, stripeId);
      cursor = page.data.at(-1)?.id ?? cursor;
      await saveProgress(cursor, objects, skipped);
    }
  });
}

/** Each stored parent that can have children, in id order, resumable by parent id. */
async function backfillPerParent(
  deps: SyncDeps,
  connection: Connection,
  resource: PerParentResource,
  heartbeat: () => Promise<void>,
) {
  await once(deps, connection.id, resource.perParent.state, heartbeat, async (cursor, saveProgress) => {
    let after = cursor ?? "";
    for (;;) {
      const parents = await parentsAfter(deps, resource, connection.id, after);
      if (parents.length === 0) return;
      for (const { stripeId } of parents) {
        const count = await listChildrenOf(deps, resource, connection, stripeId);
        after = stripeId;
        await saveProgress(after, count);
      }
    }
  });
}

/** Saves where a step is and what it stored, then lets the scheduler renew its lease (or stop it). */
type SaveProgress = (cursor: string | null, synced: number, skipped?: number) => Promise<void>;

/**
 * Runs one step of the backfill unless its sync state says it is done, keeping the state up to date;
 * `run` gets the cursor it saved last.
 */
async function once(
  deps: SyncDeps,
  connectionId: string,
  name: string,
  heartbeat: () => Promise<void>,
  run: (cursor: string | null, saveProgress: SaveProgress) => Promise<void>,
) {
  const state = await readSyncState(deps, connectionId, name);
  if (state?.status === "done") return;
  await writeSyncState(deps, connectionId, name, { status: "running", error: null });
  const saveProgress: SaveProgress = async (cursor, synced, skipped = 0) => {
    await writeSyncState(deps, connectionId, name, {
      cursor,
      objectsSynced: { increment: synced },
      objectsSkipped: { increment: skipped },
    });
    await heartbeat();
  };
  try {
    await run(state?.cursor ?? null, saveProgress);
    await writeSyncState(deps, connectionId, name, {
      status: "done",
      cursor: null,
      lastSyncedAt: deps.clock.now(),
    });
  } catch (error) {
    if (error instanceof SyncStopped) throw error;
    const { message } = describeSyncProblem(error);
    if (error instanceof Stripe.errors.StripePermissionError) {
      // The merchant did not grant this permission: the rest of the connection still syncs.
      await writeSyncState(deps, connectionId, name, { status: "forbidden", error: message });
      return;
    }
    await writeSyncState(deps, connectionId, name, { status: "failed", error: message }).catch(() => {});
    throw error;
  }
}
