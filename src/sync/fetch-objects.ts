import type { Deps } from "../deps.ts";
import type { Prisma, StripeConnection } from "../generated/prisma/client.ts";
import type { StripeList } from "../stripe/api.ts";
import { RESOURCE_BY_KEY, type StripeObject } from "../stripe/resources.ts";
import { upsertObjects } from "./upsert.ts";

type Connection = Pick<StripeConnection, "id" | "orgId" | "livemode">;

const json = (object: StripeObject) => object as unknown as Prisma.InputJsonObject;
const str = (value: unknown) => (typeof value === "string" ? value : null);
const flag = (value: unknown) => (typeof value === "boolean" ? value : null);

/** Stores the connected account (guarded by version time like every synced object). */
export async function storeAccount(
  deps: Deps,
  connection: Connection,
  account: StripeObject,
  versionAt: Date,
) {
  const profile = (account.business_profile ?? {}) as Record<string, unknown>;
  const settings = (account.settings ?? {}) as { dashboard?: { display_name?: unknown } };
  const columns = {
    stripeId: account.id,
    businessName: str(profile.name) ?? str(settings.dashboard?.display_name),
    email: str(account.email),
    country: str(account.country),
    defaultCurrency: str(account.default_currency),
    chargesEnabled: flag(account.charges_enabled),
    payoutsEnabled: flag(account.payouts_enabled),
    raw: json(account),
    lastEventAt: versionAt,
    syncedAt: deps.clock.now(),
  };
  const { prisma } = deps.db;
  const updated = await prisma.stripeAccount.updateMany({
    where: { connectionId: connection.id, OR: [{ lastEventAt: null }, { lastEventAt: { lt: versionAt } }] },
    data: columns,
  });
  if (updated.count === 0) {
    await prisma.stripeAccount.createMany({
      data: [{ connectionId: connection.id, ...columns }],
      skipDuplicates: true,
    });
  }
}

export async function storeBalance(deps: Deps, connection: Connection, balance: StripeObject) {
  const data = {
    livemode: typeof balance.livemode === "boolean" ? balance.livemode : connection.livemode === true,
    raw: json(balance),
    fetchedAt: deps.clock.now(),
  };
  await deps.db.prisma.stripeBalance.upsert({
    where: { connectionId: connection.id },
    create: { connectionId: connection.id, ...data },
    update: data,
  });
}

export async function fetchAccountAndBalance(deps: Deps, connection: Connection) {
  const readAt = deps.clock.now();
  await storeAccount(deps, connection, await deps.stripeApi.get(connection, "/v1/account"), readAt);
  await storeBalance(deps, connection, await deps.stripeApi.get(connection, "/v1/balance"));
}

/**
 * The balance transactions paid out in one payout (`?payout=`; only automatic payouts can be reconciled).
 * Stripe keeps that association off the transaction object, so it is stored here as payoutId.
 */
export async function syncPayoutTransactions(
  deps: Deps,
  connection: Connection,
  payoutId: string,
): Promise<number> {
  const resource = RESOURCE_BY_KEY.get("balance_transactions")!;
  let startingAfter: string | undefined;
  let count = 0;
  for (;;) {
    const readAt = deps.clock.now();
    const page = await deps.stripeApi.get<StripeList>(connection, resource.listPath, {
      payout: payoutId,
      limit: 100,
      starting_after: startingAfter,
    });
    await upsertObjects(
      deps.db.prisma,
      resource,
      connection,
      page.data.map((object: StripeObject) => ({ object, versionAt: readAt, extra: { payoutId } })),
      deps.clock.now(),
    );
    count += page.data.length;
    if (!page.has_more || page.data.length === 0) return count;
    startingAfter = page.data.at(-1)!.id;
  }
}
