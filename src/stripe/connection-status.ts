import type { Deps } from "../deps.ts";
import type { Prisma, StripeConnection } from "../generated/prisma/client.ts";
import { NO_TOKENS } from "./tokens.ts";

/** Every change of a connection goes through here, so that subscribers hear of it. */
export async function updateConnection(
  deps: Pick<Deps, "db" | "pubsub">,
  connectionId: string,
  data: Prisma.StripeConnectionUpdateInput,
): Promise<StripeConnection> {
  const connection = await deps.db.prisma.stripeConnection.update({ where: { id: connectionId }, data });
  publishConnection(deps, connection);
  return connection;
}

export function publishConnection(
  deps: Pick<Deps, "pubsub">,
  connection: Pick<StripeConnection, "id" | "orgId">,
) {
  deps.pubsub.publish("connection:updated", { orgId: connection.orgId, connectionId: connection.id });
}

export function markNeedsReauth(deps: Pick<Deps, "db" | "pubsub">, connectionId: string, reason: string) {
  return updateConnection(deps, connectionId, {
    status: "NEEDS_REAUTH",
    lastError: reason,
    lastErrorCode: "NEEDS_REAUTH",
    nextSyncAt: null,
  });
}

type AccountKey = { orgId: string; stripeAccountId: string; livemode: boolean };

/** The merchant uninstalled the app or revoked access: no token works any more. */
export async function markDeauthorized(
  deps: Pick<Deps, "db" | "pubsub" | "clock">,
  where: AccountKey,
): Promise<StripeConnection | null> {
  const changed = await deauthorizeInTransaction(deps.db.prisma, deps.clock.now(), where);
  if (changed) publishConnection(deps, changed);
  return (
    changed ??
    deps.db.prisma.stripeConnection.findUnique({ where: { orgId_stripeAccountId_livemode: where } })
  );
}

/**
 * markDeauthorized's writes, inside the caller's transaction (an applied event); the caller publishes
 * after its commit. Returns the connection when it changed.
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
