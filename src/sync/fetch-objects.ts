import type { Deps } from "../deps.ts";
import type { Prisma, StripeConnection } from "../generated/prisma/client.ts";
import type { StripeList } from "../stripe/api.ts";
import { RESOURCE_BY_KEY, type StripeObject } from "../stripe/resources.ts";
import { readVersion, upsertObjects } from "./upsert.ts";

type Connection = Pick<StripeConnection, "id" | "orgId" | "livemode">;
/** The Prisma client, or the interactive transaction an event is applied in. */
export type Writer = Prisma.TransactionClient;

const json = (object: StripeObject) => object as unknown as Prisma.InputJsonObject;
const str = (value: unknown) => (typeof value === "string" ? value : null);
const flag = (value: unknown) => (typeof value === "boolean" ? value : null);

/** Stores the connected account (guarded by version time like every synced object). True when written. */
export async function storeAccount(
  db: Writer,
  connection: Connection,
  account: StripeObject,
  versionAt: Date,
  now: Date,
  replace: "newer" | "not-older" = "newer",
): Promise<boolean> {
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
    syncedAt: now,
  };
  const older = replace === "newer" ? { lt: versionAt } : { lte: versionAt };
  const updated = await db.stripeAccount.updateMany({
    where: { connectionId: connection.id, OR: [{ lastEventAt: null }, { lastEventAt: older }] },
    data: columns,
  });
  if (updated.count > 0) return true;
  const created = await db.stripeAccount.createMany({
    data: [{ connectionId: connection.id, ...columns }],
    skipDuplicates: true,
  });
  return created.count > 0;
}

/** Stores the balance unless a newer one is stored (a late `balance.available` changes nothing). */
export async function storeBalance(
  db: Writer,
  connection: Connection,
  balance: StripeObject,
  versionAt: Date,
  now: Date,
): Promise<boolean> {
  const data = {
    livemode: typeof balance.livemode === "boolean" ? balance.livemode : connection.livemode === true,
    raw: json(balance),
    fetchedAt: now,
    lastEventAt: versionAt,
  };
  const updated = await db.stripeBalance.updateMany({
    where: { connectionId: connection.id, OR: [{ lastEventAt: null }, { lastEventAt: { lte: versionAt } }] },
    data,
  });
  if (updated.count > 0) return true;
  const created = await db.stripeBalance.createMany({
    data: [{ connectionId: connection.id, ...data }],
    skipDuplicates: true,
  });
  return created.count > 0;
}

export async function fetchAccountAndBalance(deps: Deps, connection: Connection) {
  const accountRead = readVersion(deps.clock.now());
  const account = await deps.stripeApi.get(connection, "/v1/account");
  await storeAccount(deps.db.prisma, connection, account, accountRead, deps.clock.now());
  await fetchBalance(deps, connection);
}

/**
 * The balance moves as funds become available, and Stripe announces that (`balance.available`) only to
 * destinations that ask for it: each poll reads it again.
 */
export async function fetchBalance(deps: Deps, connection: Connection) {
  const readAt = readVersion(deps.clock.now());
  const balance = await deps.stripeApi.get(connection, "/v1/balance");
  await storeBalance(deps.db.prisma, connection, balance, readAt, deps.clock.now());
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
    const readAt = readVersion(deps.clock.now());
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
      // The link to the payout is new information even when the transaction itself is unchanged.
      { replace: "not-older", log: deps.logger },
    );
    count += page.data.length;
    if (!page.has_more || page.data.length === 0) return count;
    startingAfter = page.data.at(-1)!.id;
  }
}
