import type { GeneratorScope } from "./dataset-scope.ts";
import {
  type BuildContext,
  buildBalanceTransaction,
  buildCharge,
  buildDispute,
  buildFeeRefund,
  buildPayout,
  buildRefund,
  feeRefundPatch,
  fromFixture,
  payoutBalanceTransaction,
  refundBalanceTransaction,
  stripeFee,
} from "./objects.ts";
import type { SeededRandom } from "./random.ts";
import type { StripeObject } from "./types.ts";

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
export function generatePaymentHistory(scope: GeneratorScope, options: PaymentHistoryOptions): void {
  const { store, accountId, mode, ctx, random } = scope;
  const interval = Math.max(60, Math.floor((options.now - options.start) / options.payouts));
  const destination = random.id("ba");
  const period: Period = { rows: [], unpaid: [] };
  const links = new Map<string, string>();
  // Fee refunds draw from their own stream, so adding them left every other generated object unchanged.
  const feeRandom = random.fork("fee_refunds");
  const fees: FeeRefunder = { ctx: { ...ctx, id: (prefix) => feeRandom.id(prefix) }, random: feeRandom };
  for (let p = 0; p < options.payouts; p++) {
    const periodStart = options.start + p * interval;
    const periodEnd = periodStart + interval;
    const count = random.int(1, options.chargesPerPayout * 2 - 1);
    for (let c = 0; c < count; c++) {
      const created = random.int(periodStart, periodEnd - 30);
      addCharge(period, ctx, random, accountId, options, created, periodEnd, fees);
    }
    const amount = period.unpaid.reduce((sum, bt) => sum + (bt.net as number), 0);
    // A negative balance carries over to the next payout, as Stripe does; the last period stays unpaid.
    if (amount <= 0 || p === options.payouts - 1) continue;
    const payoutId = ctx.id("po");
    const payoutBt = payoutBalanceTransaction(ctx, { source: payoutId, amount, created: periodEnd });
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
  fees: FeeRefunder,
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
  const fee =
    appFee &&
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
        total_count: 0,
        url: `/v1/application_fees/${appFee.id}/refunds`,
      },
    });
  if (fee) period.rows.push(["application_fee", fee]);
  // Refunds and disputes land in the same payout period as their charge.
  const later = (min: number) => random.int(Math.min(created + min, periodEnd - 1), periodEnd - 1);
  let refund: StripeObject | undefined;
  if (random.chance(0.08)) refund = addRefund(period, ctx, random, charge, later(60));
  else if (random.chance(0.02)) addDispute(period, ctx, random, charge, later(3600), options.now);
  if (fee) addFeeRefunds(period, fees, fee, charge, refund, options.now);
}

interface FeeRefunder {
  ctx: BuildContext;
  random: SeededRandom;
}

/**
 * Most refunded charges also refund their application fee, in proportion (`refund_application_fee`,
 * at the same time); a few other fees are refunded on their own, fully or in one or two parts.
 */
function addFeeRefunds(
  period: Period,
  { ctx, random }: FeeRefunder,
  fee: StripeObject,
  charge: StripeObject,
  chargeRefund: StripeObject | undefined,
  now: number,
): void {
  const total = fee.amount as number;
  const parts: Array<[amount: number, created: number]> = [];
  if (chargeRefund) {
    const share = Math.round((total * (chargeRefund.amount as number)) / (charge.amount as number));
    if (random.chance(0.7) && share > 0) parts.push([share, chargeRefund.created]);
  } else if (random.chance(0.06) && fee.created + 3600 < now - 60) {
    const first = random.chance(0.4) ? total : random.int(1, total - 1);
    const created = random.int(fee.created + 3600, Math.min(fee.created + 30 * DAY, now - 60));
    parts.push([first, created]);
    if (first < total && created < now - 120 && random.chance(0.3))
      parts.push([random.int(1, total - first), random.int(created + 60, now - 60)]);
  }
  for (const [amount, created] of parts) {
    const refund = buildFeeRefund(ctx, fee, { amount, created });
    Object.assign(fee, feeRefundPatch(fee, refund));
    period.rows.push(["fee_refund", refund]);
  }
}

function addRefund(
  period: Period,
  ctx: BuildContext,
  random: SeededRandom,
  charge: StripeObject,
  created: number,
): StripeObject {
  const chargeAmount = charge.amount as number;
  const amount = random.chance(0.5) ? chargeAmount : Math.floor(chargeAmount / 2);
  const refundId = ctx.id("re");
  const bt = refundBalanceTransaction(ctx, { source: refundId, amount, created });
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
  return refund;
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
