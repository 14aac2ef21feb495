import type { Clock } from "../clock.ts";
import type { Database } from "../db/client.ts";
import { type ChangeRecorder, type Transaction, withChanges } from "../feed/change-log.ts";
import type { ConnectionChangeType } from "../feed/change-types.ts";
import type { Prisma, StripeConnection, StripeConnectionStatus } from "../generated/prisma/client.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { NO_TOKENS } from "./tokens.ts";

/** What a status change needs: the row, the change log, and the topic its subscribers listen on. */
export type StatusDeps = {
  db: Pick<Database, "prisma">;
  pubsub: Pick<GatewayPubSub, "publish">;
  clock: Clock;
};

type Status = StripeConnectionStatus;

/**
 * The change-log entry of a connection's step from one status to another (`connection.ready`), or null
 * for no lifecycle step (the same status, or an attempt that is still, or no longer, pending).
 */
export function connectionChangeType(before: Status | null, after: Status): ConnectionChangeType | null {
  if (before === after) return null;
  switch (after) {
    case "SYNCING":
      return before === "READY" || before === "UNHEALTHY" ? "connection.syncing" : "connection.connected";
    case "READY":
      return before === "UNHEALTHY" ? "connection.recovered" : "connection.ready";
    case "UNHEALTHY":
      return "connection.unhealthy";
    case "NEEDS_REAUTH":
      return "connection.needs_reauth";
    case "DISCONNECTED":
      return "connection.disconnected";
    default:
      return null;
  }
}

/** Enters a connection's lifecycle step into the transaction's change log (nothing when it is none). */
export function recordConnectionChange(
  changes: ChangeRecorder,
  connection: Pick<StripeConnection, "id" | "orgId">,
  type: ConnectionChangeType | null,
  stripeEventId: string | null = null,
) {
  if (!type) return;
  changes.record({
    orgId: connection.orgId,
    connectionId: connection.id,
    type,
    objectId: connection.id,
    stripeEventId,
  });
}

/**
 * Changes a connection's row in a change-log transaction: `where` guards the update (no row matches: no
 * change, null), and a step of its status is logged with it. Subscribers hear of it after the commit.
 */
export async function transitionConnection(
  deps: StatusDeps,
  connectionId: string,
  data: Prisma.StripeConnectionUpdateInput & { status?: Status },
  where: Prisma.StripeConnectionWhereInput = {},
): Promise<StripeConnection | null> {
  const owner = await deps.db.prisma.stripeConnection.findUnique({
    where: { id: connectionId },
    select: { orgId: true },
  });
  if (!owner) return null;
  const { result: connection } = await withChanges(deps, [owner.orgId], async (tx, changes) => {
    // Every status step of the org's connections holds the org's change-log lock: this read stays true.
    const before = await tx.stripeConnection.findFirst({ where: { id: connectionId, ...where } });
    if (!before) return null;
    const after = await tx.stripeConnection.update({ where: { id: connectionId }, data });
    recordConnectionChange(changes, after, connectionChangeType(before.status, after.status));
    return after;
  });
  if (connection) publishConnection(deps, connection);
  return connection;
}

/** Every change of a connection goes through here, so that subscribers hear of it. */
export async function updateConnection(
  deps: StatusDeps,
  connectionId: string,
  data: Prisma.StripeConnectionUpdateInput & { status?: Status },
): Promise<StripeConnection> {
  const connection = await transitionConnection(deps, connectionId, data);
  if (!connection) throw new Error(`connection ${connectionId} does not exist`);
  return connection;
}

/**
 * Announces a change of a connection (after its commit): to its subscribers, and to every instance's
 * cache, which drops the org's connection routing (a disconnect, a new grant) before this returns here.
 */
export function publishConnection(
  deps: Pick<StatusDeps, "pubsub">,
  connection: Pick<StripeConnection, "id" | "orgId">,
) {
  deps.pubsub.publish("cache:invalidate", { kind: "connections", key: connection.orgId });
  publishConnectionUpdate(deps, connection);
}

/**
 * Announces a change of a connection that leaves its routing as it was (a poll's lastSyncedAt): to its
 * subscribers only, every instance's cache keeps the org's connections.
 */
export function publishConnectionUpdate(
  deps: Pick<StatusDeps, "pubsub">,
  connection: Pick<StripeConnection, "id" | "orgId">,
) {
  deps.pubsub.publish("connection:changed", { orgId: connection.orgId, connectionId: connection.id });
}

export function markNeedsReauth(deps: StatusDeps, connectionId: string, reason: string) {
  return updateConnection(deps, connectionId, {
    status: "NEEDS_REAUTH",
    lastError: reason,
    lastErrorCode: "NEEDS_REAUTH",
    nextSyncAt: null,
  });
}

/** Stripe answered 401/403 to the connection's (refreshed) credentials: only a new grant helps. */
export function markCredentialsRejected(deps: StatusDeps, connectionId: string) {
  return markNeedsReauth(deps, connectionId, "Stripe no longer accepts this connection's credentials.");
}

type AccountKey = { orgId: string; stripeAccountId: string; livemode: boolean };

/**
 * The merchant uninstalled the app or revoked access: no token works any more. Runs inside the caller's
 * transaction (an applied event); the caller publishes after its commit. Returns the connection when it
 * changed.
 */
export async function deauthorizeInTransaction(
  db: Transaction,
  changes: ChangeRecorder,
  now: Date,
  where: AccountKey,
  stripeEventId: string,
): Promise<StripeConnection | null> {
  const connection = await db.stripeConnection.findUnique({
    where: { orgId_stripeAccountId_livemode: where },
  });
  if (!connection || connection.status === "DISCONNECTED") return null;
  recordConnectionChange(changes, connection, "connection.disconnected", stripeEventId);
  return db.stripeConnection.update({
    where: { id: connection.id },
    data: {
      ...NO_TOKENS,
      status: "DISCONNECTED",
      disconnectedAt: now,
      nextSyncAt: null,
      lastError: "The merchant removed the app's access on Stripe.",
      lastErrorCode: "DEAUTHORIZED",
    },
  });
}

/**
 * PENDING connections nobody came back to: every OAuth state issued for them has expired (or was used by
 * a failed return) without a grant. Marked EXPIRED one by one, each announced like any status change; a
 * reconnect (startStripeConnection with reconnectConnectionId) makes one PENDING again. A return that
 * is exchanging its code at this moment still wins: its grant makes the connection SYNCING.
 */
export async function expireAbandonedConnections(deps: StatusDeps & { clock: { now(): Date } }) {
  const now = deps.clock.now();
  const abandoned = await deps.db.prisma.stripeConnection.findMany({
    where: { status: "PENDING", oauthStates: { none: { expiresAt: { gt: now } } } },
    select: { id: true, orgId: true, lastError: true },
  });
  let count = 0;
  for (const { id, orgId, lastError } of abandoned) {
    const expired = await deps.db.prisma.stripeConnection.updateMany({
      // still PENDING: a grant stored meanwhile stands
      where: { id, status: "PENDING" },
      data: {
        status: "EXPIRED",
        // a failed return (the merchant declined) says more than the expiry
        lastError: lastError ?? "The merchant did not finish connecting before the link expired.",
        lastErrorCode: lastError ? undefined : "EXPIRED",
      },
    });
    if (expired.count === 0) continue;
    publishConnection(deps, { id, orgId });
    count += 1;
  }
  return count;
}
