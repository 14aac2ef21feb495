import { apiError, errors } from "./api-errors.ts";
import {
  type BuildContext,
  buildBalanceTransaction,
  buildCharge,
  buildDispute,
  buildRefund,
  refundBalanceTransaction,
  stripeFee,
} from "./objects.ts";
import { resourceSpec } from "./resources.ts";
import { type EmulatorState, previousAttributes, recordEvent } from "./state.ts";
import type { Located } from "./store.ts";
import type { Mode, StripeObject } from "./types.ts";

/** Finds an object of a given resource in any account, or answers Stripe's 404. */
export function locateObject(state: EmulatorState, resource: string, id: string): Located {
  const located = state.store.locate(id);
  if (!located || located.resource !== resource)
    throw errors.resourceMissing(resourceSpec(resource).label, id);
  return located;
}

/**
 * What builders need to create objects in an account. `currency` defaults to the account's default
 * currency; objects that follow another (a refund, a payout's reversal) pass that object's currency.
 */
export function buildContext(
  state: EmulatorState,
  accountId: string,
  mode: Mode,
  currency?: string,
): BuildContext {
  const account = state.store.account(accountId);
  if (!account) throw errors.resourceMissing("account", accountId);
  return {
    id: state.ids,
    livemode: mode === "live",
    currency: currency ?? (account.object.default_currency as string) ?? "usd",
    now: state.clock.seconds(),
  };
}

/** A three-letter ISO currency code, lowercased as Stripe stores it; undefined stays undefined. */
export function checkCurrency(currency: string | undefined): string | undefined {
  if (currency === undefined) return undefined;
  if (!/^[a-z]{3}$/i.test(currency))
    throw apiError(400, { param: "currency", message: `Invalid currency: ${currency.toLowerCase()}.` });
  return currency.toLowerCase();
}

export interface CreateChargeInput {
  amount: number;
  /** Defaults to the account's default currency. */
  currency?: string;
  customer?: string | null;
  description?: string;
}

export function createCharge(state: EmulatorState, accountId: string, mode: Mode, input: CreateChargeInput) {
  if (!Number.isInteger(input.amount) || input.amount < 50)
    throw apiError(400, {
      param: "amount",
      code: "amount_too_small",
      message: "Amount must be at least 50 cents.",
    });
  const ctx = buildContext(state, accountId, mode, checkCurrency(input.currency));
  const created = ctx.now;
  const chargeId = ctx.id("ch");
  const fee = stripeFee(input.amount);
  const bt = buildBalanceTransaction(ctx, {
    amount: input.amount,
    fee,
    feeDetails: [{ amount: fee, type: "stripe_fee", description: "Stripe processing fees" }],
    type: "charge",
    reportingCategory: "charge",
    source: chargeId,
    created,
    description: input.description ?? "Emulator charge",
  });
  const charge = buildCharge(ctx, chargeId, {
    amount: input.amount,
    created,
    customer: input.customer ?? null,
    balanceTransaction: bt.id,
    description: input.description ?? "Emulator charge",
    billingName: "Jenny Rosen",
    last4: "4242",
    brand: "visa",
  });
  state.store.insert(accountId, mode, "balance_transaction", bt);
  state.store.insert(accountId, mode, "charge", charge);
  recordEvent(state, { accountId, mode, type: "charge.succeeded", object: charge });
  return charge;
}

export function refundCharge(
  state: EmulatorState,
  chargeId: string,
  input: { amount?: number; reason?: string | null } = {},
) {
  const { accountId, mode, record } = locateObject(state, "charge", chargeId);
  const charge = record.object;
  const remaining = (charge.amount as number) - (charge.amount_refunded as number);
  const amount = input.amount ?? remaining;
  if (remaining <= 0)
    throw apiError(400, {
      code: "charge_already_refunded",
      message: `Charge ${chargeId} has already been refunded.`,
    });
  if (!Number.isInteger(amount) || amount <= 0 || amount > remaining)
    throw apiError(400, {
      param: "amount",
      message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`,
    });
  const ctx = buildContext(state, accountId, mode, charge.currency as string);
  const refundId = ctx.id("re");
  const bt = refundBalanceTransaction(ctx, { source: refundId, amount, created: ctx.now });
  const refund = buildRefund(ctx, charge, {
    id: refundId,
    amount,
    created: ctx.now,
    balanceTransaction: bt.id,
    reason: input.reason ?? "requested_by_customer",
  });
  const refunds = charge.refunds as { data: StripeObject[] };
  const patch = {
    amount_refunded: (charge.amount_refunded as number) + amount,
    refunded: amount === remaining,
    refunds: { ...refunds, data: [refund, ...refunds.data] },
  };
  const previous = previousAttributes(charge, patch);
  Object.assign(charge, patch);
  state.store.insert(accountId, mode, "balance_transaction", bt);
  state.store.insert(accountId, mode, "refund", refund);
  recordEvent(state, { accountId, mode, type: "refund.created", object: refund });
  recordEvent(state, {
    accountId,
    mode,
    type: "charge.refunded",
    object: charge,
    previousAttributes: previous,
  });
  return refund;
}

export function openDispute(state: EmulatorState, chargeId: string, input: { reason?: string } = {}) {
  const { accountId, mode, record } = locateObject(state, "charge", chargeId);
  const charge = record.object;
  if (charge.disputed)
    throw apiError(400, { message: `Charge ${chargeId} already has a dispute.`, param: "charge" });
  const ctx = buildContext(state, accountId, mode, charge.currency as string);
  const { dispute, withdrawal } = buildDispute(ctx, charge, {
    created: ctx.now,
    reason: input.reason ?? "fraudulent",
    status: "needs_response",
  });
  charge.disputed = true;
  state.store.insert(accountId, mode, "balance_transaction", withdrawal);
  state.store.insert(accountId, mode, "dispute", dispute);
  recordEvent(state, { accountId, mode, type: "charge.dispute.created", object: dispute });
  recordEvent(state, { accountId, mode, type: "charge.dispute.funds_withdrawn", object: dispute });
  return dispute;
}

export function closeDispute(state: EmulatorState, disputeId: string, input: { status: "won" | "lost" }) {
  if (input.status !== "won" && input.status !== "lost") throw errors.invalidEnum("status", ["won", "lost"]);
  const { accountId, mode, record } = locateObject(state, "dispute", disputeId);
  const dispute = record.object;
  if (["won", "lost", "warning_closed"].includes(dispute.status as string))
    throw apiError(400, { message: `Dispute ${disputeId} is already closed.`, param: "dispute" });
  const previous = { status: dispute.status };
  const ctx = buildContext(state, accountId, mode, dispute.currency as string);
  if (input.status === "won") {
    const reinstatement = buildBalanceTransaction(ctx, {
      amount: dispute.amount as number,
      fee: -1500,
      feeDetails: [{ amount: -1500, type: "stripe_fee", description: "Dispute fee refund" }],
      type: "adjustment",
      reportingCategory: "dispute_reversal",
      source: disputeId,
      created: ctx.now,
      description: `Chargeback reversal for ${dispute.charge as string}`,
    });
    state.store.insert(accountId, mode, "balance_transaction", reinstatement);
    dispute.balance_transactions = [...(dispute.balance_transactions as StripeObject[]), reinstatement];
    dispute.status = "won";
    recordEvent(state, { accountId, mode, type: "charge.dispute.funds_reinstated", object: dispute });
  } else dispute.status = "lost";
  dispute.is_charge_refundable = false;
  recordEvent(state, {
    accountId,
    mode,
    type: "charge.dispute.closed",
    object: dispute,
    previousAttributes: previous,
  });
  return dispute;
}
