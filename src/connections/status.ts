import type { Database } from "../db/client.ts";
import type { Prisma, StripeConnection } from "../generated/prisma/client.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { NO_TOKENS } from "./tokens.ts";

/** What a status change needs: the row, and the topic its subscribers listen on. */
export type StatusDeps = {
  db: Pick<Database, "prisma">;
  pubsub: Pick<GatewayPubSub, "publish">;
};

/** Every change of a connection goes through here, so that subscribers hear of it. */
export async function updateConnection(
  deps: StatusDeps,
  connectionId: string,
  data: Prisma.StripeConnectionUpdateInput,
): Promise<StripeConnection> {
  const connection = await deps.db.prisma.stripeConnection.update({ where: { id: connectionId }, data });
  publishConnection(deps, connection);
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
  db: Prisma.TransactionClient,
  now: Date,
  where: AccountKey,
): Promise<StripeConnection | null> {
  const connection = await db.stripeConnection.findUnique({
    where: { orgId_stripeAccountId_livemode: where },
  });
  if (!connection || connection.status === "DISCONNECTED") return null;
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
