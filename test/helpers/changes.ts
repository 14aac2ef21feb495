import type { ConnectWorld } from "./connect.ts";
import { makeEvent, postWebhook } from "./webhooks.ts";

/** Where a payout change goes: the org (its id in webhook URLs) and its connected account. */
export type PayoutTarget = { rawId: string; account: string; connection: { rowId: string } };

let version = 0;

/**
 * Delivers a signed payout.updated that really changes the connection's first payout (a new
 * description), newer than every one before; throws unless the gateway applied it. One change each.
 */
export async function changePayout(
  world: Pick<ConnectWorld, "gateway" | "clock">,
  target: PayoutTarget,
  description: string,
): Promise<{ body: string; stripeId: string }> {
  version += 1;
  const payout = await world.gateway.deps.db.prisma.stripePayout.findFirstOrThrow({
    where: { connectionId: target.connection.rowId },
    orderBy: { stripeId: "asc" },
  });
  const body = JSON.stringify(
    makeEvent(
      "payout.updated",
      { ...(payout.raw as { id: string }), description },
      { account: target.account, created: world.clock.seconds() + version },
    ),
  );
  const response = await postWebhook(world.gateway.app, target.rawId, body, {
    timestamp: world.clock.seconds(),
  });
  if (response.json.outcome !== "applied")
    throw new Error(`payout change not applied: ${JSON.stringify(response)}`);
  return { body, stripeId: payout.stripeId };
}

/** The org's newest change sequence, as clients see it. */
export async function newestSequence(world: Pick<ConnectWorld, "gateway">, orgId: string): Promise<string> {
  const newest = await world.gateway.deps.db.prisma.stripeChange.findFirstOrThrow({
    where: { orgId },
    orderBy: { sequence: "desc" },
  });
  return String(newest.sequence);
}
