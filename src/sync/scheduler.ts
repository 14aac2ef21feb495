import type { Deps } from "../deps.ts";
import { updateConnection } from "../stripe/connection-status.ts";
import { NeedsReauthError } from "../stripe/tokens.ts";

export type SyncScheduler = {
  /** Takes a SYNCING connection; returns at once, the work runs in the background. */
  start(connectionId: string): void;
  /** Resolves when every started run has finished (shutdown, tests). */
  idle(): Promise<void>;
};

/**
 * Runs a connection's sync. Today a sync checks the authorization with one real API call (the account)
 * and marks the connection READY; the backfill and reconcile engine plugs in here.
 */
export function createSyncScheduler(deps: Deps): SyncScheduler {
  const running = new Set<Promise<void>>();

  async function run(connectionId: string): Promise<void> {
    try {
      await deps.stripe.withConnection(connectionId, (stripe, request) =>
        stripe.rawRequest("GET", "/v1/account", undefined, request),
      );
      await updateConnection(deps, connectionId, {
        status: "READY",
        lastError: null,
        lastSyncedAt: deps.clock.now(),
      });
    } catch (error) {
      if (error instanceof NeedsReauthError) return; // already marked
      const message = error instanceof Error ? error.message : String(error);
      deps.logger.warn({ connectionId, err: error }, "sync failed");
      await updateConnection(deps, connectionId, { status: "UNHEALTHY", lastError: message }).catch(() => {});
    }
  }

  return {
    start(connectionId) {
      const job = run(connectionId).finally(() => running.delete(job));
      running.add(job);
    },
    async idle() {
      while (running.size > 0) await Promise.all(running);
    },
  };
}
