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
  return updateConnection(deps, connectionId, { status: "NEEDS_REAUTH", lastError: reason });
}

/** The merchant uninstalled the app or revoked access: no token works any more. */
export async function markDeauthorized(
  deps: Pick<Deps, "db" | "pubsub" | "clock">,
  where: { orgId: string; stripeAccountId: string; livemode: boolean },
): Promise<StripeConnection | null> {
  const connection = await deps.db.prisma.stripeConnection.findUnique({
    where: { orgId_stripeAccountId_livemode: where },
  });
  if (!connection || connection.status === "DISCONNECTED") return connection;
  return updateConnection(deps, connection.id, {
    ...NO_TOKENS,
    status: "DISCONNECTED",
    disconnectedAt: deps.clock.now(),
    lastError: "The merchant removed the app's access on Stripe.",
  });
}
