import { randomUUID } from "node:crypto";
import type { Deps } from "../deps.ts";
import { updateConnection } from "../stripe/connection-status.ts";
import { NeedsReauthError } from "../stripe/tokens.ts";
import { backfillConnection, SyncStopped } from "./backfill.ts";
import { createLeases } from "./lease.ts";
import { reconcileConnection } from "./reconcile.ts";
import { resetSyncStates } from "./sync-state.ts";

export type SyncScheduler = {
  /** Backfills a SYNCING connection in the background (resuming from saved cursors). */
  start(connectionId: string, options?: { fresh?: boolean }): void;
  /** Reconciles or retries every connection that is due; `startWorkers` calls it on a timer. */
  tick(): Promise<void>;
  /** Runs `tick` every few seconds until `stop`; only main.ts starts workers. */
  startWorkers(): void;
  stop(): void;
  /** Resolves when every started run has finished (shutdown, tests). */
  idle(): Promise<void>;
};

const RETRY_BASE_MS = 30_000;

/**
 * Backfill when a connection becomes active, then reconcile against /v1/events every
 * SYNC_INTERVAL_SECONDS. Each run holds the connection's lease, so across several instances a
 * connection is synced by one at a time; failures mark it UNHEALTHY and are retried with backoff.
 */
export function createSyncScheduler(deps: Deps): SyncScheduler {
  const owner = `${process.pid}-${randomUUID()}`;
  const leases = createLeases(deps, owner);
  const running = new Map<string, Promise<void>>();
  const failures = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const heartbeat = (connectionId: string) => async () => {
    if (stopped) throw new SyncStopped("sync stopped");
    await leases.renew(connectionId);
  };

  async function run(connectionId: string, kind: "backfill" | "reconcile", fresh: boolean) {
    if (!(await leases.acquire(connectionId))) return; // another instance is on it
    try {
      if (fresh) await resetSyncStates(deps, connectionId);
      const connection = await deps.db.prisma.stripeConnection.findUniqueOrThrow({
        where: { id: connectionId },
      });
      if (connection.status === "DISCONNECTED" || connection.status === "NEEDS_REAUTH") return;
      if (kind === "backfill") await backfillConnection(deps, connection, heartbeat(connectionId));
      await reconcileConnection(
        deps,
        await deps.db.prisma.stripeConnection.findUniqueOrThrow({ where: { id: connectionId } }),
      );
      failures.delete(connectionId);
      await updateConnection(deps, connectionId, {
        status: "READY",
        lastError: null,
        lastSyncedAt: deps.clock.now(),
      });
    } catch (error) {
      if (error instanceof NeedsReauthError || error instanceof SyncStopped) return;
      failures.set(connectionId, (failures.get(connectionId) ?? 0) + 1);
      const message = error instanceof Error ? error.message : String(error);
      deps.logger.warn({ connectionId, err: error }, `${kind} failed`);
      await updateConnection(deps, connectionId, { status: "UNHEALTHY", lastError: message }).catch(() => {});
    } finally {
      await leases.release(connectionId).catch(() => {});
    }
  }

  function launch(connectionId: string, kind: "backfill" | "reconcile", fresh = false) {
    if (running.has(connectionId) || stopped) return;
    const job = run(connectionId, kind, fresh).finally(() => running.delete(connectionId));
    running.set(connectionId, job);
  }

  async function tick() {
    const now = deps.clock.now().getTime();
    const due = new Date(now - deps.config.syncIntervalSeconds * 1000);
    const candidates = await deps.db.prisma.stripeConnection.findMany({
      where: {
        status: { in: ["READY", "UNHEALTHY", "SYNCING"] },
        OR: [{ syncLeaseUntil: null }, { syncLeaseUntil: { lt: new Date(now) } }],
      },
      select: { id: true, status: true, lastSyncedAt: true, updatedAt: true },
    });
    for (const connection of candidates) {
      if (connection.status === "READY") {
        if (!connection.lastSyncedAt || connection.lastSyncedAt < due) launch(connection.id, "reconcile");
        continue;
      }
      // UNHEALTHY (or SYNCING left behind by a stopped instance): resume the backfill, with backoff.
      const backoff = Math.min(
        deps.config.syncIntervalSeconds * 1000,
        RETRY_BASE_MS * 2 ** (failures.get(connection.id) ?? 0),
      );
      if (connection.status === "SYNCING" || connection.updatedAt.getTime() < now - backoff)
        launch(connection.id, "backfill");
    }
  }

  return {
    start: (connectionId, options = {}) => launch(connectionId, "backfill", options.fresh ?? false),
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
