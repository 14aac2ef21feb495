import {
  type BuildContext,
  buildBalanceTransaction,
  buildCharge,
  buildDispute,
  buildPayout,
  buildRefund,
  fromFixture,
  stripeFee,
} from "./objects.ts";
import type { SeededRandom } from "./random.ts";
import type { Store } from "./store.ts";
import type { Mode, StripeObject } from "./types.ts";

const DAY = 86_400;
const NAMES = ["Jenny Rosen", "Ada Lovelace", "Alan Turing", "Grace Hopper", "Linus Pauling", "Marie Curie"];

/** Objects of one payout period, plus the balance transactions the next payout will pay out. */
interface Period {
  rows: Array<[resource: string, object: StripeObject]>;
  unpaid: StripeObject[];
}

export interface PaymentHistoryOptions {
  payouts: number;
  chargesPerPayout: number;
  start: number;
  now: number;
  customers: string[];
  /** The platform's client id, set on application fees. */
  application: string | null;
}

/**
 * Charges (with application fees, refunds and disputes) and the automatic payouts that pay them out:
 * each payout's `?payout=` balance transactions net to its amount.
 */
export function generatePaymentHistory(
  store: Store,
  accountId: string,
  mode: Mode,
  ctx: BuildContext,
  random: SeededRandom,
  options: PaymentHistoryOptions,
): void {
  const interval = Math.max(60, Math.floor((options.now - options.start) / options.payouts));
  const destination = random.id("ba");
  const period: Period = { rows: [], unpaid: [] };
  const links = new Map<string, string>();
  for (let p = 0; p < options.payouts; p++) {
    const periodStart = options.start + p * interval;
    const periodEnd = periodStart + interval;
    const count = random.int(1, options.chargesPerPayout * 2 - 1);
    for (let c = 0; c < count; c++)
      addCharge(period, ctx, random, accountId, options, random.int(periodStart, periodEnd - 30), periodEnd);
    const amount = period.unpaid.reduce((sum, bt) => sum + (bt.net as number), 0);
    // A negative balance carries over to the next payout, as Stripe does; the last period stays unpaid.
    if (amount <= 0 || p === options.payouts - 1) continue;
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
    const status = arrival <= options.now ? "paid" : periodEnd > options.now - DAY ? "pending" : "in_transit";
    const payout = buildPayout(ctx, {
      id: payoutId,
      amount,
      created: periodEnd,
      balanceTransaction: payoutBt.id,
      destination,
      status,
    });
    for (const bt of [...period.unpaid, payoutBt]) links.set(bt.id, payoutId);
    period.rows.push(["balance_transaction", payoutBt], ["payout", payout]);
    period.unpaid = [];
  }
  period.rows.sort((a, b) => a[1].created - b[1].created);
  for (const [resource, object] of period.rows) {
    const payout = links.get(object.id);
    store.insert(accountId, mode, resource, object, payout ? { payout } : {});
  }
}

function addCharge(
  period: Period,
  ctx: BuildContext,
  random: SeededRandom,
  accountId: string,
  options: PaymentHistoryOptions,
  created: number,
  periodEnd: number,
): void {
  const amount = random.int(5, 500) * 100 + random.pick([0, 0, 50, 99]);
  const chargeId = ctx.id("ch");
  const application = options.application;
  const appFee =
    application && random.chance(0.3)
      ? { id: ctx.id("fee"), amount: Math.round(amount * 0.05), application }
      : null;
  const processing = stripeFee(amount);
  const feeDetails = [{ amount: processing, type: "stripe_fee", description: "Stripe processing fees" }];
  if (appFee)
    feeDetails.push({ amount: appFee.amount, type: "application_fee", description: "Application fee" });
  const bt = buildBalanceTransaction(ctx, {
    amount,
    fee: processing + (appFee?.amount ?? 0),
    feeDetails,
    type: "charge",
    reportingCategory: "charge",
    source: chargeId,
    created,
    description: `Payment from ${random.pick(NAMES)}`,
  });
  const charge = buildCharge(ctx, chargeId, {
    amount,
    created,
    customer: random.chance(0.7) ? random.pick(options.customers) : null,
    balanceTransaction: bt.id,
    description: bt.description as string,
    applicationFee: appFee,
    billingName: random.pick(NAMES),
    last4: random.pick(["4242", "0005", "4444", "1117"]),
    brand: random.pick(["visa", "visa", "mastercard", "amex"]),
  });
  period.rows.push(["balance_transaction", bt], ["charge", charge]);
  period.unpaid.push(bt);
  if (appFee)
    period.rows.push([
      "application_fee",
      fromFixture("application_fee", {
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
      }),
    ]);
  // Refunds and disputes land in the same payout period as their charge.
  const later = (min: number) => random.int(Math.min(created + min, periodEnd - 1), periodEnd - 1);
  if (random.chance(0.08)) addRefund(period, ctx, random, charge, later(60));
  else if (random.chance(0.02)) addDispute(period, ctx, random, charge, later(3600), options.now);
}

function addRefund(
  period: Period,
  ctx: BuildContext,
  random: SeededRandom,
  charge: StripeObject,
  created: number,
) {
  const chargeAmount = charge.amount as number;
  const amount = random.chance(0.5) ? chargeAmount : Math.floor(chargeAmount / 2);
  const refundId = ctx.id("re");
  const bt = buildBalanceTransaction(ctx, {
    amount: -amount,
    type: "refund",
    reportingCategory: "refund",
    source: refundId,
    created,
    description: "REFUND FOR CHARGE",
  });
  const refund = buildRefund(ctx, charge, {
    id: refundId,
    amount,
    created,
    balanceTransaction: bt.id,
    reason: random.pick(["requested_by_customer", "duplicate", null]),
  });
  Object.assign(charge, { amount_refunded: amount, refunded: amount === chargeAmount });
  Object.assign(charge.refunds as object, { data: [refund] });
  period.rows.push(["balance_transaction", bt], ["refund", refund]);
  period.unpaid.push(bt);
}

function addDispute(
  period: Period,
  ctx: BuildContext,
  random: SeededRandom,
  charge: StripeObject,
  created: number,
  now: number,
) {
  // Disputes older than a month have been decided; recent ones await a response.
  const status = created < now - 30 * DAY ? random.pick(["won", "lost", "lost"]) : "needs_response";
  const { dispute, withdrawal } = buildDispute(ctx, charge, {
    created,
    reason: random.pick(["fraudulent", "product_not_received", "duplicate", "general"]),
    status,
  });
  charge.disputed = true;
  period.rows.push(["balance_transaction", withdrawal], ["dispute", dispute]);
  period.unpaid.push(withdrawal);
}
