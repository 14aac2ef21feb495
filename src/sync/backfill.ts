import Stripe from "stripe";
import type { StripeConnection } from "../generated/prisma/client.ts";
import {
  PER_PARENT_RESOURCES,
  type PerParentResource,
  RESOURCES,
  type ResourceSpec,
  SINGLETONS,
} from "../stripe/resources.ts";
import { listChildrenOf, type ParentPosition, parentsNewestFirst } from "./per-parent.ts";
import { readSingleton } from "./singletons.ts";
import { storeObjects } from "./store-objects.ts";
import type { SyncDeps, Writer } from "./sync-deps.ts";
import { describeSyncProblem } from "./sync-problem.ts";
import { type SyncStates, writeSyncState } from "./sync-state.ts";

type Connection = Pick<
  StripeConnection,
  "id" | "orgId" | "livemode" | "eventsPolledUntil" | "stripeAccountId"
>;

/** Thrown by a heartbeat when the instance stops: the work ends, resumable from the saved cursors. */
export class SyncStopped extends Error {
  override name = "SyncStopped";
}

/**
 * Parents whose lists are in flight at once, per per-parent resource: enough to keep the budget busy
 * while a page is being stored (the budget, not this, sets the pace).
 */
const PARENTS_IN_FLIGHT = 4;

/**
 * Copies every top-level resource the app may read, as the registry lists it: each singleton (the
 * account, its balance) and every top-level list (100 per page, newest first), all at once — the
 * connection's rate budget sets the pace, every resource's pages share it. Progress is saved after each
 * page, so a restarted backfill resumes where it stopped. A resource the app lacks the permission for
 * is marked "forbidden" and skipped; anything else fails the backfill (retried later) once the other
 * resources have gone as far as they can. Returns the singletons it read in this call.
 */
export async function backfillConnection(
  deps: SyncDeps,
  connection: Connection,
  states: SyncStates,
  heartbeat: () => Promise<void>,
): Promise<Set<string>> {
  if (!connection.eventsPolledUntil) {
    // The poller reads events from here on: anything before is in the data backfill copies.
    await deps.db.prisma.stripeConnection.updateMany({
      where: { id: connection.id, eventsPolledUntil: null },
      data: { eventsPolledUntil: deps.clock.now() },
    });
  }
  const read = new Set<string>();
  await allOrFirstError([
    ...SINGLETONS.map((singleton) =>
      once(
        deps,
        connection.id,
        states.get(singleton.key),
        singleton.key,
        heartbeat,
        async (_cursor, saveProgress) => {
          await readSingleton(deps, singleton, connection);
          read.add(singleton.key);
          await saveProgress(null, 1);
        },
      ),
    ),
    ...(RESOURCES as readonly ResourceSpec[]).flatMap((resource) =>
      resource.list ? [backfillList(deps, connection, states, resource, resource.list, heartbeat)] : [],
    ),
  ]);
  return read;
}

/**
 * The per-parent lists (a reconciled payout's balance transactions, with the link to the payout; a
 * refunded fee's refunds), one request or more per parent, newest parents first, every resource at once
 * within the same budget. Runs after the connection is READY; resumable from each state's cursor.
 */
export async function backfillPerParentLists(
  deps: SyncDeps,
  connection: Connection,
  states: SyncStates,
  heartbeat: () => Promise<void>,
) {
  await allOrFirstError(
    PER_PARENT_RESOURCES.map((resource) => backfillPerParent(deps, connection, states, resource, heartbeat)),
  );
}

/** True when every per-parent list is stored: backfillPerParentLists would have nothing to do. */
export const perParentListsDone = (states: SyncStates) =>
  PER_PARENT_RESOURCES.every((resource) => states.get(resource.perParent.state)?.status === "done");

/**
 * Waits for every task to end — none keeps running behind the caller's back — then throws the first
 * failure, preferring a real one to SyncStopped (so the failure is recorded).
 */
async function allOrFirstError(tasks: Promise<unknown>[]) {
  const results = await Promise.allSettled(tasks);
  const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
  if (failures.length === 0) return;
  throw failures.find((error) => !(error instanceof SyncStopped)) ?? failures[0];
}

async function backfillList(
  deps: SyncDeps,
  connection: Connection,
  states: SyncStates,
  resource: ResourceSpec,
  list: NonNullable<ResourceSpec["list"]>,
  heartbeat: () => Promise<void>,
) {
  await once(
    deps,
    connection.id,
    states.get(resource.key),
    resource.key,
    heartbeat,
    async (cursor, saveProgress) => {
      for await (const page of aheadByOne(deps.stripeApi.list(connection, list.path, list.params, cursor))) {
        const after = page.data.at(-1)?.id ?? cursor;
        // Subscribers hear of backfilled objects the same way as of webhook updates: by the change log.
        // The page and the cursor past it commit together, so a restart resumes right after what is stored.
        await storeObjects(
          deps,
          resource,
          connection,
          page.data.map((object) => ({ object, versionAt: page.readAt })),
          { log: deps.logger },
          (tx, { objects, skipped }) => saveProgress.within(tx, after, objects, skipped),
        );
        cursor = after;
        await saveProgress.beat();
      }
    },
  );
}

/**
 * The same pages, each next one already requested while the caller stores the current one (a list's
 * pages follow each other by cursor: this keeps one request of it in flight at the budget's pace). When
 * the caller stops early, the request ahead is waited for — nothing outlives the loop.
 */
async function* aheadByOne<T>(pages: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = pages.next();
  next.catch(() => {}); // awaited below
  try {
    for (;;) {
      const result = await next;
      if (result.done) return;
      next = pages.next();
      next.catch(() => {});
      yield result.value;
    }
  } finally {
    await next.catch(() => {});
    await pages.return(undefined).catch(() => {});
  }
}

/** A per-parent step's cursor: the last parent done, as `<created ISO>|<stripe id>` (newest first). */
const encodeCursor = ({ created, stripeId }: ParentPosition) => `${created.toISOString()}|${stripeId}`;

function decodeCursor(cursor: string): ParentPosition | null {
  const bar = cursor.indexOf("|");
  if (bar < 0) return null;
  const created = new Date(cursor.slice(0, bar));
  return Number.isNaN(created.getTime()) ? null : { created, stripeId: cursor.slice(bar + 1) };
}

/**
 * Each stored parent that can have children, newest first (by `created`, then id), a few at a time;
 * the cursor only moves past a parent once it and every newer one are stored, so a restart redoes at
 * most the parents that were in flight, and counts nothing twice.
 */
async function backfillPerParent(
  deps: SyncDeps,
  connection: Connection,
  states: SyncStates,
  resource: PerParentResource,
  heartbeat: () => Promise<void>,
) {
  const { state } = resource.perParent;
  await once(deps, connection.id, states.get(state), state, heartbeat, async (cursor, saveProgress) => {
    let after = cursor ? decodeCursor(cursor) : null;
    if (cursor && !after) {
      // A cursor of the former id-order walk: start over, and count from zero again.
      await writeSyncState(deps, connection.id, state, { cursor: null, objectsSynced: 0 });
    }
    for (;;) {
      const parents = await parentsNewestFirst(deps, resource, connection.id, after);
      if (parents.length === 0) return;
      await inOrder(
        parents,
        PARENTS_IN_FLIGHT,
        (parent) => listChildrenOf(deps, resource, connection, parent.stripeId),
        async (parent, count) => {
          after = parent;
          await saveProgress(encodeCursor(parent), count);
        },
      );
    }
  });
}

/**
 * Runs `work` on the items, at most `width` at a time, and `commit`s their results one by one in the
 * items' order. On a failure nothing new starts; the ones in flight are waited for, then it throws.
 */
async function inOrder<T, R>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<R>,
  commit: (item: T, result: R) => Promise<void>,
) {
  const started: Promise<R>[] = [];
  let committed = 0;
  let failed = false;
  const fill = () => {
    while (!failed && started.length < items.length && started.length - committed < width) {
      const job = work(items[started.length]!);
      job.catch(() => {}); // awaited below, in order
      started.push(job);
    }
  };
  try {
    fill();
    while (committed < items.length) {
      const result = await started[committed]!;
      await commit(items[committed]!, result);
      committed += 1;
      fill();
    }
  } catch (error) {
    failed = true;
    await Promise.allSettled(started);
    throw error;
  }
}

/**
 * Saves where a step is and what it stored, then lets the scheduler renew its lease (or stop it); `within`
 * saves in the caller's transaction (the one that stored the page), and `beat` follows after its commit.
 */
type SaveProgress = {
  (cursor: string | null, synced: number, skipped?: number): Promise<void>;
  within(tx: Writer, cursor: string | null, synced: number, skipped: number): Promise<unknown>;
  beat(): Promise<void>;
};

/**
 * Runs one step of the backfill unless its sync state (as the run read it) says it is done, keeping the
 * state up to date; `run` gets the cursor it saved last.
 */
async function once(
  deps: SyncDeps,
  connectionId: string,
  state: { status: string; cursor: string | null } | undefined,
  name: string,
  heartbeat: () => Promise<void>,
  run: (cursor: string | null, saveProgress: SaveProgress) => Promise<void>,
) {
  if (state?.status === "done") return;
  await writeSyncState(deps, connectionId, name, { status: "running", error: null });
  const progress = (cursor: string | null, synced: number, skipped: number) => ({
    cursor,
    objectsSynced: { increment: synced },
    objectsSkipped: { increment: skipped },
  });
  const saveProgress: SaveProgress = Object.assign(
    async (cursor: string | null, synced: number, skipped = 0) => {
      await writeSyncState(deps, connectionId, name, progress(cursor, synced, skipped));
      await heartbeat();
    },
    {
      within: (tx: Writer, cursor: string | null, synced: number, skipped: number) =>
        writeSyncState({ db: { prisma: tx } }, connectionId, name, progress(cursor, synced, skipped)),
      beat: heartbeat,
    },
  );
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
