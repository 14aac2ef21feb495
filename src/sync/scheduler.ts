import { randomUUID } from "node:crypto";
import Stripe from "stripe";
import { NeedsReauthError } from "../connections/credentials.ts";
import {
  expireAbandonedConnections,
  publishConnectionUpdate,
  transitionConnection,
} from "../connections/status.ts";
import { createConnectionLease } from "../db/connection-lease.ts";
import type { StripeConnection } from "../generated/prisma/client.ts";
import { SINGLETONS } from "../stripe/resources.ts";
import { backfillConnection, backfillPerParentLists, perParentListsDone, SyncStopped } from "./backfill.ts";
import { EVENTS_STATE, pollEvents, pollPositionExpired } from "./poll-events.ts";
import { readSingleton } from "./singletons.ts";
import type { SyncDeps } from "./sync-deps.ts";
import { describeSyncProblem } from "./sync-problem.ts";
import { readSyncStates, resetSyncStates, type SyncStates, writeSyncState } from "./sync-state.ts";

export type SyncScheduler = {
  /** Backfills a SYNCING connection in the background (resuming from saved cursors). */
  start(connectionId: string, options?: { fresh?: boolean }): void;
  /** Syncs every connection whose next attempt is due; `startWorkers` calls it on a timer. */
  tick(): Promise<void>;
  /** Runs `tick` every few seconds until `stop`; only the serving processes (main.ts, the demo) start workers. */
  startWorkers(): void;
  stop(): void;
  /** Resolves when every started run has finished (shutdown, tests). */
  idle(): Promise<void>;
};

/** The sync state that tells a re-listing (the poll position fell out of Stripe's 30 days) apart. */
const RELIST_STATE = "relist";

/**
 * Renewed by the heartbeat after a page once a quarter of it has passed, so it outlives one Stripe request
 * and its retries by as much as a lease of 60 s renewed after every page did.
 */
const SYNC_LEASE_TTL_MS = 80_000;
/** A page's heartbeat renews the lease only once it is this old: most pages write nothing for it. */
const SYNC_LEASE_RENEW_MS = SYNC_LEASE_TTL_MS / 4;
const RETRY_FIRST_MS = 30_000;
const RETRY_MAX_MS = 15 * 60 * 1000;
const SYNCABLE = ["SYNCING", "READY", "UNHEALTHY"] as const;

/** Exponential backoff after `failures` consecutive failures: 30 s, 1 min, 2 min, … 15 min. */
function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

/**
 * Backfill when a connection becomes active, then poll /v1/events every SYNC_INTERVAL_SECONDS. When the
 * next attempt is due, how often it failed and when lives on the connection row, so every instance
 * agrees; each run holds the connection's lease, so one instance at a time syncs it. A failure marks it
 * UNHEALTHY and schedules a retry with exponential backoff, whatever else (webhooks) touches the row.
 */
export function createSyncScheduler(deps: SyncDeps): SyncScheduler {
  const owner = `${process.pid}-${randomUUID()}`;
  const leases = createConnectionLease(
    deps,
    owner,
    { owner: "syncLeaseOwner", until: "syncLeaseUntil" },
    SYNC_LEASE_TTL_MS,
  );
  const running = new Map<string, Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  /** Called after every page: stops the work when the instance stops, and keeps the lease alive. */
  const heartbeat = (connectionId: string) => {
    let renewedAt = deps.clock.now().getTime(); // the run has just taken the lease
    return async () => {
      if (stopped) throw new SyncStopped("sync stopped");
      const now = deps.clock.now().getTime();
      if (now - renewedAt < SYNC_LEASE_RENEW_MS) return;
      renewedAt = now;
      await leases.renew(connectionId);
    };
  };

  /** `freeSlot`: gives the backfill slot back once READY (the per-parent lists after it do not take one). */
  async function run(connectionId: string, fresh: boolean, freeSlot: () => void = () => {}) {
    if (stopped) return; // it waited for a slot meanwhile
    const claimed = await leases.claim(connectionId);
    if (!claimed) return; // another instance is on it
    let released = false;
    try {
      if (fresh) await resetSyncStates(deps, connectionId);
      if (!(SYNCABLE as readonly string[]).includes(claimed.status)) return;
      const beat = heartbeat(connectionId);
      const states = await syncConnection(deps, claimed, beat);
      // A READY connection with nothing left to link: READY again and the lease released in one statement.
      if (claimed.status === "READY" && perParentListsDone(states)) {
        released = await leases.releaseWith(connectionId, successData(deps), { status: "READY" });
        if (released) return publishConnectionUpdate(deps, claimed);
      }
      // READY once every top-level list is stored; the per-parent lists fill in after, in this run.
      await recordSuccess(deps, claimed);
      freeSlot();
      await linkConnection(deps, claimed, states, beat);
    } catch (error) {
      if (error instanceof NeedsReauthError || error instanceof SyncStopped) return;
      deps.logger.warn({ connectionId, err: error }, "sync failed");
      await recordFailure(deps, connectionId, error).catch((failure) =>
        deps.logger.error({ connectionId, err: failure }, "could not record the sync failure"),
      );
    } finally {
      if (!released) await leases.release(connectionId).catch(() => {});
    }
  }

  const backfillSlots = createSlots(deps.config.backfillsAtOnce);

  /**
   * Runs the connection's sync unless it runs already. A backfill (a new grant, a reconnect, a SYNCING
   * connection) waits for a slot first, so that many at once (an org connecting hundreds of merchants)
   * leave the database pool and the event loop to requests; polls never wait.
   */
  function launch(connectionId: string, { fresh = false, backfill = false } = {}) {
    if (running.has(connectionId) || stopped) return;
    const job = (
      backfill
        ? backfillSlots.run((freeSlot) => run(connectionId, fresh, freeSlot))
        : run(connectionId, fresh)
    ).finally(() => running.delete(connectionId));
    running.set(connectionId, job);
  }

  async function tick() {
    await expireAbandonedConnections(deps);
    const now = deps.clock.now();
    const due = await deps.db.prisma.stripeConnection.findMany({
      where: {
        status: { in: [...SYNCABLE] },
        AND: [
          { OR: [{ nextSyncAt: null }, { nextSyncAt: { lte: now } }] },
          { OR: [{ syncLeaseUntil: null }, { syncLeaseUntil: { lt: now } }] },
        ],
      },
      select: { id: true, status: true },
      orderBy: { nextSyncAt: { sort: "asc", nulls: "first" } },
    });
    for (const { id, status } of due) launch(id, { backfill: status === "SYNCING" });
  }

  return {
    start: (connectionId, options = {}) =>
      launch(connectionId, { fresh: options.fresh ?? false, backfill: true }),
    tick,
    startWorkers() {
      if (timer) return;
      const every = Math.min(5, deps.config.syncIntervalSeconds) * 1000;
      timer = setInterval(() => {
        tick().catch((error) => deps.logger.error({ err: error }, "sync tick failed"));
      }, every);
      timer.unref();
    },
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
    },
    async idle() {
      while (running.size > 0) await Promise.all(running.values());
    },
  };
}

/**
 * One run up to READY: the backfill of every top-level list (resuming; nothing left to do once every
 * list is stored), then the events poller. A poll position past Stripe's 30 days of events cannot be
 * trusted to catch up: every object is listed again first, and the `relist` sync state says so. Returns
 * the sync states as the run found them.
 */
async function syncConnection(
  deps: SyncDeps,
  claimed: StripeConnection,
  heartbeat: () => Promise<void>,
): Promise<SyncStates> {
  let connection = claimed;
  if (pollPositionExpired(deps, connection.eventsPolledUntil)) {
    deps.logger.warn(
      { connectionId: connection.id, polledUntil: connection.eventsPolledUntil },
      "events poller is past Stripe's 30-day event retention: re-listing every object",
    );
    await resetSyncStates(deps, connection.id, [EVENTS_STATE, RELIST_STATE]);
    await writeSyncState(deps, connection.id, RELIST_STATE, { status: "running", error: null });
    // Events from now on are the poller's again; what came before is in what the lists return.
    connection = await deps.db.prisma.stripeConnection.update({
      where: { id: connection.id },
      data: { eventsPolledUntil: deps.clock.now() },
    });
  }
  const states = await readSyncStates(deps, connection.id);
  const justRead = await backfillConnection(deps, connection, states, heartbeat);
  // The backfill sets the poll position of a connection that has none.
  if (!connection.eventsPolledUntil) connection = await reread(deps, connection.id);
  await poll(deps, connection, justRead);
  if (states.get(RELIST_STATE)?.status === "running") {
    await writeSyncState(deps, connection.id, RELIST_STATE, {
      status: "done",
      lastSyncedAt: deps.clock.now(),
      objectsSynced: { increment: 1 },
    });
  }
  return states;
}

/** The events poller, then the singletons read on every poll (but those the backfill just read). */
async function poll(deps: SyncDeps, connection: StripeConnection, justRead: ReadonlySet<string> = new Set()) {
  await pollEvents(deps, connection);
  for (const singleton of SINGLETONS) {
    if (!("readEachPoll" in singleton) || justRead.has(singleton.key)) continue;
    await readSingleton(deps, singleton, connection).catch((error) => {
      // Without its permission the rest of the connection still syncs (the backfill marked it forbidden).
      if (!(error instanceof Stripe.errors.StripePermissionError)) throw error;
    });
  }
}

/**
 * The per-parent lists (payout ↔ balance transaction links, fee refunds), unless done: after READY,
 * in the same run and lease, so a READY connection's later runs finish what an earlier one left. They
 * can take minutes on a large account: the events poller still runs every SYNC_INTERVAL_SECONDS in
 * between (a failed poll is logged and tried again an interval later; the next run polls anyway).
 */
async function linkConnection(
  deps: SyncDeps,
  connection: StripeConnection,
  states: SyncStates,
  heartbeat: () => Promise<void>,
) {
  const intervalMs = deps.config.syncIntervalSeconds * 1000;
  let polledAt = deps.clock.now().getTime();
  let polling: Promise<void> | null = null;
  const pollWhenDue = async () => {
    if (!polling && deps.clock.now().getTime() - polledAt < intervalMs) return;
    polling ??= (async () => {
      try {
        // The poll position moved since the run began: the poller reads it from the row.
        await poll(deps, await reread(deps, connection.id));
        await recordSuccess(deps, connection);
      } catch (error) {
        deps.logger.warn(
          { connectionId: connection.id, err: error },
          "events poll during the link phase failed",
        );
      } finally {
        polledAt = deps.clock.now().getTime();
      }
    })().finally(() => {
      polling = null;
    });
    await polling;
  };
  await backfillPerParentLists(deps, connection, states, async () => {
    await heartbeat();
    await pollWhenDue();
  });
}

const reread = (deps: SyncDeps, connectionId: string) =>
  deps.db.prisma.stripeConnection.findUniqueOrThrow({ where: { id: connectionId } });

/** What a successful run writes: READY again, the failure count cleared, the next poll one interval away. */
function successData(deps: SyncDeps) {
  const now = deps.clock.now();
  return {
    status: "READY",
    lastError: null,
    lastErrorCode: null,
    syncFailures: 0,
    lastSyncedAt: now,
    nextSyncAt: new Date(now.getTime() + deps.config.syncIntervalSeconds * 1000),
  } as const;
}

async function recordSuccess(deps: SyncDeps, connection: Pick<StripeConnection, "id" | "orgId">) {
  // Only a connection still being synced: a deauthorization that arrived meanwhile stands.
  await transitionConnection(deps, connection.id, successData(deps), { status: { in: [...SYNCABLE] } });
}

async function recordFailure(deps: SyncDeps, connectionId: string, error: unknown) {
  const now = deps.clock.now();
  const current = await reread(deps, connectionId);
  const failures = current.syncFailures + 1;
  const problem = describeSyncProblem(error);
  await transitionConnection(
    deps,
    connectionId,
    {
      status: "UNHEALTHY",
      lastError: problem.message,
      lastErrorCode: problem.code,
      syncFailures: failures,
      lastFailureAt: now,
      nextSyncAt: new Date(now.getTime() + retryDelayMs(failures)),
    },
    { status: { in: [...SYNCABLE] } },
  );
}

/**
 * At most `size` works at a time; the others wait, first come first served. A work may give its slot back
 * before it ends (`freeSlot`); it is given back when it ends otherwise.
 */
function createSlots(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  const giveBack = () => {
    const next = waiting.shift();
    if (next) next();
    else free += 1;
  };
  return {
    async run<T>(work: (freeSlot: () => void) => Promise<T>): Promise<T> {
      if (free > 0) free -= 1;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      let held = true;
      const freeSlot = () => {
        if (!held) return;
        held = false;
        giveBack();
      };
      try {
        return await work(freeSlot);
      } finally {
        freeSlot();
      }
    },
  };
}
