import {
  generateCustomers,
  generateHistoryEvents,
  generateIssuing,
  generateSubscriptions,
} from "./dataset-extras.ts";
import type { BuildContext } from "./objects.ts";
import {
  buildBalanceTransaction,
  buildCharge,
  buildDispute,
  buildPayout,
  buildRefund,
  fromFixture,
} from "./objects.ts";
import type { Platform } from "./platforms.ts";
import { createRandom, type SeededRandom } from "./random.ts";
import { connectionKey, type Store } from "./store.ts";
import { MODES, type Mode, type StripeObject } from "./types.ts";

export const DATASET_SIZES = {
  tiny: { payouts: 12, chargesPerPayout: 3 },
  small: { payouts: 60, chargesPerPayout: 5 },
  medium: { payouts: 400, chargesPerPayout: 6 },
  large: { payouts: 2000, chargesPerPayout: 8 },
} as const;
export type DatasetSize = keyof typeof DATASET_SIZES | { payouts: number; chargesPerPayout: number };

export interface DatasetOptions {
  seed: string;
  accounts: number;
  size: DatasetSize;
  /** Days of history before the clock's current time. */
  days?: number;
  now: number;
  platforms: readonly Platform[];
  apiVersion: string;
}

const DAY = 86_400;
const BUSINESSES = ["Rocket Rides", "Pasha Books", "Kavholm", "Furever", "Bloom Florists", "Typographic"];
const CURRENCIES = [
  ["US", "usd"],
  ["FR", "eur"],
  ["GB", "gbp"],
] as const;
const NAMES = ["Jenny Rosen", "Ada Lovelace", "Alan Turing", "Grace Hopper", "Linus Pauling", "Marie Curie"];

/** Creates the connected accounts and fills the store with each one's history in both modes. */
export function generateDataset(store: Store, options: DatasetOptions): string[] {
  const random = createRandom(options.seed);
  const ids: string[] = [];
  for (let index = 0; index < options.accounts; index++) {
    const accountRandom = random.fork(`account/${index}`);
    const [country, currency] = CURRENCIES[index % CURRENCIES.length] ?? CURRENCIES[0];
    const name = `${BUSINESSES[index % BUSINESSES.length]}${index >= BUSINESSES.length ? ` ${index + 1}` : ""}`;
    const id = accountRandom.id("acct", 16);
    const account = fromFixture("account", {
      id,
      country,
      created: options.now - (options.days ?? 180) * DAY - 30 * DAY,
      default_currency: currency,
      email: `owner@${name.toLowerCase().replaceAll(" ", "")}.example`,
      business_type: "company",
    });
    Object.assign(account.business_profile as object, { name, url: `https://${id.slice(5, 13)}.example` });
    Object.assign((account.settings as { dashboard: object }).dashboard, { display_name: name });
    // Every dataset account starts with the (first) platform's app installed in both modes.
    const connections = new Map<string, boolean>();
    for (const platform of options.platforms.slice(0, 1))
      for (const mode of MODES) connections.set(connectionKey(platform.id, mode), true);
    store.accounts.set(id, { object: account, connections });
    for (const mode of MODES) {
      const modeRandom = accountRandom.fork(mode);
      const ctx: BuildContext = {
        id: (prefix) => modeRandom.id(prefix),
        livemode: mode === "live",
        currency,
        now: options.now,
      };
      generateAccountHistory(store, id, mode, ctx, modeRandom, options);
    }
    ids.push(id);
  }
  return ids;
}

interface Pending {
  bt: StripeObject;
}

function generateAccountHistory(
  store: Store,
  accountId: string,
  mode: Mode,
  ctx: BuildContext,
  random: SeededRandom,
  options: DatasetOptions,
): void {
  const size = typeof options.size === "string" ? DATASET_SIZES[options.size] : options.size;
  const span = (options.days ?? 180) * DAY;
  const start = options.now - span;
  const interval = Math.max(60, Math.floor(span / size.payouts));
  const destination = random.id("ba");
  const application = options.platforms[0]?.keys[mode].clientId ?? null;
  const customers = generateCustomers(store, accountId, mode, ctx, random, {
    count: Math.max(5, Math.ceil(size.payouts / 2)),
    start,
  });
  const out: Array<[string, StripeObject, Record<string, string>?]> = [];
  let unpaid: Pending[] = [];

  for (let p = 0; p < size.payouts; p++) {
    const periodStart = start + p * interval;
    const periodEnd = periodStart + interval;
    const count = random.int(1, size.chargesPerPayout * 2 - 1);
    for (let c = 0; c < count; c++) {
      const created = random.int(periodStart, periodEnd - 30);
      const amount = random.int(5, 500) * 100 + random.pick([0, 0, 50, 99]);
      const chargeId = ctx.id("ch");
      const appFee =
        application && random.chance(0.3)
          ? { id: ctx.id("fee"), amount: Math.round(amount * 0.05), application }
          : null;
      const fee = stripeFeeDetails(amount, appFee);
      const bt = buildBalanceTransaction(ctx, {
        amount,
        fee: fee.total,
        feeDetails: fee.details,
        type: "charge",
        reportingCategory: "charge",
        source: chargeId,
        created,
        description: `Payment from ${random.pick(NAMES)}`,
      });
      const charge = buildCharge(ctx, chargeId, {
        amount,
        created,
        customer: random.chance(0.7) ? random.pick(customers) : null,
        balanceTransaction: bt.id,
        description: bt.description as string,
        applicationFee: appFee,
        billingName: random.pick(NAMES),
        last4: random.pick(["4242", "0005", "4444", "1117"]),
        brand: random.pick(["visa", "visa", "mastercard", "amex"]),
      });
      out.push(["balance_transaction", bt], ["charge", charge]);
      unpaid.push({ bt });
      if (appFee) {
        const feeObject = fromFixture("application_fee", {
          id: appFee.id,
          account: accountId,
          amount: appFee.amount,
          application,
          balance_transaction: ctx.id("txn"),
          charge: chargeId,
          created,
          currency: ctx.currency,
          fee_source: { charge: chargeId, type: "charge" },
          livemode: ctx.livemode,
          refunds: {
            object: "list",
            data: [],
            has_more: false,
            url: `/v1/application_fees/${appFee.id}/refunds`,
          },
        });
        out.push(["application_fee", feeObject]);
      }
      const later = (min: number) => random.int(Math.min(created + min, periodEnd - 1), periodEnd - 1);
      if (random.chance(0.08)) {
        const refundAmount = random.chance(0.5) ? amount : Math.floor(amount / 2);
        const refundId = ctx.id("re");
        const refundCreated = later(60);
        const refundBt = buildBalanceTransaction(ctx, {
          amount: -refundAmount,
          type: "refund",
          reportingCategory: "refund",
          source: refundId,
          created: refundCreated,
          description: "REFUND FOR CHARGE",
        });
        const refund = buildRefund(ctx, charge, {
          id: refundId,
          amount: refundAmount,
          created: refundCreated,
          balanceTransaction: refundBt.id,
          reason: random.pick(["requested_by_customer", "duplicate", null]),
        });
        Object.assign(charge, { amount_refunded: refundAmount, refunded: refundAmount === amount });
        Object.assign(charge.refunds as object, { data: [refund] });
        out.push(["balance_transaction", refundBt], ["refund", refund]);
        unpaid.push({ bt: refundBt });
      } else if (random.chance(0.02)) {
        const disputeId = ctx.id("dp");
        const disputeCreated = later(3600);
        const withdrawal = buildBalanceTransaction(ctx, {
          amount: -amount,
          fee: 1500,
          feeDetails: [{ amount: 1500, type: "stripe_fee", description: "Dispute fee" }],
          type: "adjustment",
          reportingCategory: "dispute",
          source: disputeId,
          created: disputeCreated,
          description: `Chargeback withdrawal for ${chargeId}`,
        });
        const closed = disputeCreated < options.now - 30 * DAY;
        const status = closed ? random.pick(["won", "lost", "lost"]) : "needs_response";
        const dispute = buildDispute(ctx, charge, {
          id: disputeId,
          created: disputeCreated,
          reason: random.pick(["fraudulent", "product_not_received", "duplicate", "general"]),
          status,
          balanceTransactions: [withdrawal],
        });
        charge.disputed = true;
        out.push(["balance_transaction", withdrawal], ["dispute", dispute]);
        unpaid.push({ bt: withdrawal });
      }
    }
    const amount = unpaid.reduce((sum, item) => sum + (item.bt.net as number), 0);
    // A negative balance carries over to the next payout, as Stripe does; the last period stays unpaid.
    if (amount <= 0 || p === size.payouts - 1) continue;
    const payoutId = ctx.id("po");
    const payoutBt = buildBalanceTransaction(ctx, {
      amount: -amount,
      type: "payout",
      reportingCategory: "payout",
      source: payoutId,
      created: periodEnd,
      availableOn: periodEnd,
      description: "STRIPE PAYOUT",
    });
    const arrival = Math.ceil((periodEnd + 2 * DAY) / DAY) * DAY;
    const status =
      arrival > options.now ? (periodEnd > options.now - DAY ? "pending" : "in_transit") : "paid";
    const payout = buildPayout(ctx, {
      id: payoutId,
      amount,
      created: periodEnd,
      balanceTransaction: payoutBt.id,
      destination,
      status,
    });
    for (const item of unpaid) out.push(["link", item.bt, { payout: payoutId }]);
    out.push(["balance_transaction", payoutBt, { payout: payoutId }], ["payout", payout]);
    unpaid = [];
  }
  insertSorted(store, accountId, mode, out);
  generateSubscriptions(store, accountId, mode, ctx, random, { customers, start });
  generateIssuing(store, accountId, mode, ctx, random, { count: Math.ceil(size.payouts / 2), start });
  generateHistoryEvents(store, accountId, mode, ctx, options.apiVersion);
}

function stripeFeeDetails(amount: number, appFee: { amount: number; application: string } | null) {
  const stripe = Math.round(amount * 0.029) + 30;
  const details = [{ amount: stripe, type: "stripe_fee", description: "Stripe processing fees" }];
  if (appFee)
    details.push({ amount: appFee.amount, type: "application_fee", description: "Application fee" });
  return { total: stripe + (appFee?.amount ?? 0), details };
}

/** Inserts in created order; "link" rows only attach a payout to an already-listed balance transaction. */
function insertSorted(
  store: Store,
  accountId: string,
  mode: Mode,
  rows: Array<[string, StripeObject, Record<string, string>?]>,
): void {
  const links = new Map<string, Record<string, string>>();
  for (const [, object, link] of rows) if (link) links.set(object.id, link);
  const objects = rows.filter(([resource]) => resource !== "link");
  objects.sort((a, b) => a[1].created - b[1].created);
  for (const [resource, object] of objects)
    store.insert(accountId, mode, resource, object, links.get(object.id) ?? {});
}
