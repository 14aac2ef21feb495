import fixtures from "./fixtures.json" with { type: "json" };
import type { StripeObject } from "./types.ts";

type FixtureName = keyof typeof fixtures.resources;

/** Context every builder needs: where ids come from and which mode the object lives in. */
export interface BuildContext {
  id(prefix: string): string;
  livemode: boolean;
  currency: string;
  now: number;
}

/** A fresh copy of Stripe's example object, overridden with the given fields. */
export function fromFixture(name: FixtureName, fields: Record<string, unknown>): StripeObject {
  return { ...structuredClone(fixtures.resources[name]), ...fields } as StripeObject;
}

const DAY = 86_400;

export function stripeFee(amount: number): number {
  return Math.round(amount * 0.029) + 30;
}

export interface BalanceTransactionInput {
  amount: number;
  fee?: number;
  feeDetails?: Array<{ amount: number; type: string; description: string; application?: string | null }>;
  type: string;
  reportingCategory: string;
  source: string;
  created: number;
  description?: string | null;
  /** Defaults to two days after `created` (payouts and their reversals apply at once). */
  availableOn?: number;
}

export function buildBalanceTransaction(ctx: BuildContext, input: BalanceTransactionInput): StripeObject {
  const fee = input.fee ?? 0;
  const availableOn = input.availableOn ?? Math.ceil((input.created + 2 * DAY) / DAY) * DAY;
  return fromFixture("balance_transaction", {
    id: ctx.id("txn"),
    amount: input.amount,
    available_on: availableOn,
    created: input.created,
    currency: ctx.currency,
    description: input.description ?? null,
    fee,
    fee_details: (input.feeDetails ?? []).map((detail) => ({
      amount: detail.amount,
      application: detail.application ?? null,
      currency: ctx.currency,
      description: detail.description,
      type: detail.type,
    })),
    net: input.amount - fee,
    reporting_category: input.reportingCategory,
    source: input.source,
    status: availableOn <= ctx.now ? "available" : "pending",
    type: input.type,
  });
}

/** What a refund or a payout takes out of the balance: `amount` (positive), for the object `source`. */
export interface DebitInput {
  source: string;
  amount: number;
  created: number;
}

/** The balance transaction of a refund; like a charge's, it becomes available two days later. */
export function refundBalanceTransaction(ctx: BuildContext, input: DebitInput): StripeObject {
  return debitBalanceTransaction(ctx, "refund", input, "REFUND FOR CHARGE");
}

/** The balance transaction of a payout; it applies at once. */
export function payoutBalanceTransaction(ctx: BuildContext, input: DebitInput): StripeObject {
  return debitBalanceTransaction(ctx, "payout", input, "STRIPE PAYOUT", input.created);
}

function debitBalanceTransaction(
  ctx: BuildContext,
  type: "refund" | "payout",
  { source, amount, created }: DebitInput,
  description: string,
  availableOn?: number,
): StripeObject {
  return buildBalanceTransaction(ctx, {
    amount: -amount,
    type,
    reportingCategory: type,
    source,
    created,
    availableOn,
    description,
  });
}

export interface ChargeInput {
  amount: number;
  created: number;
  customer: string | null;
  balanceTransaction: string;
  description: string;
  applicationFee?: { id: string; amount: number; application: string } | null;
  billingName: string;
  last4: string;
  brand: string;
}

export function buildCharge(ctx: BuildContext, id: string, input: ChargeInput): StripeObject {
  const charge = fromFixture("charge", {
    id,
    amount: input.amount,
    amount_captured: input.amount,
    application: input.applicationFee?.application ?? null,
    application_fee: input.applicationFee?.id ?? null,
    application_fee_amount: input.applicationFee?.amount ?? null,
    balance_transaction: input.balanceTransaction,
    calculated_statement_descriptor: "EMULATOR",
    created: input.created,
    currency: ctx.currency,
    customer: input.customer,
    description: input.description,
    livemode: ctx.livemode,
    payment_intent: `pi_${id.slice(3)}`,
    payment_method: `pm_${id.slice(3)}`,
    receipt_url: `https://pay.stripe.com/receipts/payment/${id}`,
    refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${id}/refunds` },
  });
  const details = charge.payment_method_details as { card: Record<string, unknown> };
  Object.assign(details.card, { brand: input.brand, network: input.brand, last4: input.last4 });
  (charge.billing_details as Record<string, unknown>).name = input.billingName;
  return charge;
}

export function buildRefund(
  ctx: BuildContext,
  charge: StripeObject,
  input: { id: string; amount: number; created: number; balanceTransaction: string; reason: string | null },
): StripeObject {
  return fromFixture("refund", {
    id: input.id,
    amount: input.amount,
    balance_transaction: input.balanceTransaction,
    charge: charge.id,
    created: input.created,
    currency: ctx.currency,
    customer: charge.customer ?? null,
    payment_intent: charge.payment_intent ?? null,
    payment_method: charge.payment_method ?? null,
    reason: input.reason,
  });
}

/** A new dispute and the balance transaction that withdraws the disputed amount plus Stripe's fee. */
export function buildDispute(
  ctx: BuildContext,
  charge: StripeObject,
  input: { created: number; reason: string; status: string },
): { dispute: StripeObject; withdrawal: StripeObject } {
  const id = ctx.id("dp");
  const withdrawal = buildBalanceTransaction(ctx, {
    amount: -(charge.amount as number),
    fee: 1500,
    feeDetails: [{ amount: 1500, type: "stripe_fee", description: "Dispute fee" }],
    type: "adjustment",
    reportingCategory: "dispute",
    source: id,
    created: input.created,
    description: `Chargeback withdrawal for ${charge.id}`,
  });
  const dispute = fromFixture("dispute", {
    id,
    amount: charge.amount,
    balance_transactions: [withdrawal],
    charge: charge.id,
    created: input.created,
    currency: ctx.currency,
    livemode: ctx.livemode,
    payment_intent: charge.payment_intent ?? null,
    reason: input.reason,
    status: input.status,
  });
  Object.assign(dispute.evidence_details as object, { due_by: input.created + 7 * DAY });
  return { dispute, withdrawal };
}

/** A fee refund (`fr_…`); its balance transaction is the platform's, like the fee's own. */
export function buildFeeRefund(
  ctx: BuildContext,
  fee: StripeObject,
  input: { amount: number; created: number; metadata?: Record<string, string> },
): StripeObject {
  return fromFixture("fee_refund", {
    id: ctx.id("fr"),
    amount: input.amount,
    balance_transaction: ctx.id("txn"),
    created: input.created,
    currency: fee.currency,
    fee: fee.id,
    metadata: input.metadata ?? {},
  });
}

/** Stripe embeds the 10 most recent refunds in the fee; the rest are paged through its refunds list. */
const EMBEDDED_FEE_REFUNDS = 10;

/** The fields of `fee` once `refund` (newer than its other refunds) is applied. */
export function feeRefundPatch(fee: StripeObject, refund: StripeObject) {
  const refunds = fee.refunds as { data: StripeObject[]; total_count?: number };
  const total = (refunds.total_count ?? refunds.data.length) + 1;
  const amountRefunded = (fee.amount_refunded as number) + (refund.amount as number);
  return {
    amount_refunded: amountRefunded,
    refunded: amountRefunded >= (fee.amount as number),
    refunds: {
      ...refunds,
      data: [refund, ...refunds.data].slice(0, EMBEDDED_FEE_REFUNDS),
      has_more: total > EMBEDDED_FEE_REFUNDS,
      total_count: total,
    },
  };
}

export function buildPayout(
  ctx: BuildContext,
  input: {
    id: string;
    amount: number;
    created: number;
    balanceTransaction: string;
    destination: string;
    status: string;
    automatic?: boolean;
  },
): StripeObject {
  return fromFixture("payout", {
    id: input.id,
    amount: input.amount,
    arrival_date: Math.ceil((input.created + 2 * DAY) / DAY) * DAY,
    automatic: input.automatic ?? true,
    balance_transaction: input.balanceTransaction,
    created: input.created,
    currency: ctx.currency,
    destination: input.destination,
    livemode: ctx.livemode,
    reconciliation_status: input.automatic === false ? "not_applicable" : "completed",
    status: input.status,
    trace_id: { status: input.status === "paid" ? "supported" : "pending", value: null },
  });
}

export function buildEvent(
  ctx: Pick<BuildContext, "id" | "livemode">,
  input: {
    type: string;
    account: string;
    object: StripeObject | Record<string, unknown>;
    created: number;
    apiVersion: string;
    previousAttributes?: Record<string, unknown>;
  },
): StripeObject {
  const data: Record<string, unknown> = { object: structuredClone(input.object) };
  if (input.previousAttributes) data.previous_attributes = structuredClone(input.previousAttributes);
  return {
    id: ctx.id("evt"),
    object: "event",
    account: input.account,
    api_version: input.apiVersion,
    created: input.created,
    data,
    livemode: ctx.livemode,
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    type: input.type,
  };
}
