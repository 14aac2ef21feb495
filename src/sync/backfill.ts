import Stripe from "stripe";
import type { Deps } from "../deps.ts";
import type { StripeConnection } from "../generated/prisma/client.ts";
import type { StripeList } from "../stripe/api.ts";
import { RESOURCES, type ResourceSpec, type StripeObject } from "../stripe/resources.ts";
import { publishObject } from "./apply-event.ts";
import { fetchAccountAndBalance, syncPayoutTransactions } from "./fetch-objects.ts";
import { describeSyncProblem } from "./sync-problem.ts";
import { readSyncState, writeSyncState } from "./sync-state.ts";
import { readVersion, upsertObjects } from "./upsert.ts";

type Connection = Pick<
  StripeConnection,
  "id" | "orgId" | "livemode" | "eventsPolledUntil" | "stripeAccountId"
>;

/** Thrown by a heartbeat when the instance stops: the work ends, resumable from the saved cursors. */
export class SyncStopped extends Error {
  override name = "SyncStopped";
}

/** Sync-state names beside the registry's resources. */
export const ACCOUNT_STATE = "account";
export const PAYOUT_TRANSACTIONS_STATE = "payout_transactions";

/**
 * Copies everything the app may read: the account and balance, every resource of the registry
 * (100 per page, newest first), then the balance transactions of each reconciled payout. Progress is
 * saved after each page, so a restarted backfill resumes where it stopped. A resource the app lacks the
 * permission for is marked "forbidden" and skipped; anything else fails the backfill (retried later).
 */
export async function backfillConnection(deps: Deps, connection: Connection, heartbeat: () => Promise<void>) {
  if (!connection.eventsPolledUntil) {
    // The poller reads events from here on: anything before is in the data backfill copies.
    await deps.db.prisma.stripeConnection.updateMany({
      where: { id: connection.id, eventsPolledUntil: null },
      data: { eventsPolledUntil: deps.clock.now() },
    });
  }
  await step(deps, connection.id, ACCOUNT_STATE, async () => {
    await fetchAccountAndBalance(deps, connection);
    return 1;
  });
  for (const resource of RESOURCES) {
    await backfillResource(deps, connection, resource, heartbeat);
  }
  await backfillPayoutTransactions(deps, connection, heartbeat);
}

async function backfillResource(
  deps: Deps,
  connection: Connection,
  resource: ResourceSpec,
  heartbeat: () => Promise<void>,
) {
  const state = await readSyncState(deps, connection.id, resource.key);
  if (state?.status === "done") return;
  await guarded(deps, connection.id, resource.key, async () => {
    let cursor = state?.cursor ?? undefined;
    for (;;) {
      const readAt = readVersion(deps.clock.now());
      const page = await deps.stripeApi.get<StripeList>(connection, resource.listPath, {
        limit: 100,
        starting_after: cursor,
        ...resource.listParams,
      });
      const { written, objects, skipped } = await upsertObjects(
        deps.db.prisma,
        resource,
        connection,
        page.data.map((object: StripeObject) => ({ object, versionAt: readAt })),
        deps.clock.now(),
        { log: deps.logger },
      );
      // Subscribers hear of backfilled objects the same way as of webhook updates.
      for (const stripeId of written) publishObject(deps, resource, connection, stripeId);
      const last = page.data.at(-1)?.id;
      cursor = typeof last === "string" ? last : cursor;
      await writeSyncState(deps, connection.id, resource.key, {
        cursor: cursor ?? null,
        objectsSynced: { increment: objects },
        objectsSkipped: { increment: skipped },
      });
      await heartbeat();
      if (!page.has_more || page.data.length === 0) return;
    }
  });
}

/** Each automatic payout whose reconciliation is complete, in id order, resumable by payout id. */
async function backfillPayoutTransactions(
  deps: Deps,
  connection: Connection,
  heartbeat: () => Promise<void>,
) {
  const state = await readSyncState(deps, connection.id, PAYOUT_TRANSACTIONS_STATE);
  if (state?.status === "done") return;
  await guarded(deps, connection.id, PAYOUT_TRANSACTIONS_STATE, async () => {
    let after = state?.cursor ?? "";
    for (;;) {
      const payouts = await deps.db.prisma.stripePayout.findMany({
        where: { connectionId: connection.id, reconciliationStatus: "completed", stripeId: { gt: after } },
        orderBy: { stripeId: "asc" },
        select: { stripeId: true },
        take: 50,
      });
      if (payouts.length === 0) return;
      for (const { stripeId } of payouts) {
        const count = await syncPayoutTransactions(deps, connection, stripeId);
        after = stripeId;
        await writeSyncState(deps, connection.id, PAYOUT_TRANSACTIONS_STATE, {
          cursor: after,
          objectsSynced: { increment: count },
        });
        await heartbeat();
      }
    }
  });
}

async function step(deps: Deps, connectionId: string, name: string, run: () => Promise<number>) {
  const state = await readSyncState(deps, connectionId, name);
  if (state?.status === "done") return;
  await guarded(deps, connectionId, name, async () => {
    const count = await run();
    await writeSyncState(deps, connectionId, name, { objectsSynced: count });
  });
}

/** Runs one resource's work with its sync state kept up to date. */
async function guarded(deps: Deps, connectionId: string, name: string, run: () => Promise<void>) {
  await writeSyncState(deps, connectionId, name, { status: "running", error: null });
  try {
    await run();
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
