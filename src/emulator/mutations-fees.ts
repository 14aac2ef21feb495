// Application fee refunds, with the events Stripe sends for them (it has no `application_fee.refund.created`).
import { apiError, errors } from "./api-errors.ts";
import { buildContext, locateObject } from "./mutations-payments.ts";
import { buildFeeRefund, feeRefundPatch } from "./objects.ts";
import { type EmulatorState, patchAndRecord, recordEvent } from "./state.ts";
import type { StripeObject } from "./types.ts";

/** Metadata as sent to Stripe: a value of "" (or null here) unsets the key. */
export type MetadataInput = Record<string, string | null>;

/** Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500. */
function checkMetadata(current: Record<string, string>, input: MetadataInput): Record<string, string> {
  const next = { ...current };
  for (const [key, value] of Object.entries(input)) {
    if (key.length > 40)
      throw apiError(400, {
        param: `metadata[${key}]`,
        message: "Metadata keys can be at most 40 characters.",
      });
    if (value !== null && value.length > 500)
      throw apiError(400, {
        param: `metadata[${key}]`,
        message: "Metadata values can be at most 500 characters.",
      });
    if (value === null || value === "") delete next[key];
    else next[key] = value;
  }
  if (Object.keys(next).length > 50)
    throw apiError(400, { param: "metadata", message: "You can have at most 50 keys in metadata." });
  return next;
}

/**
 * Refunds an application fee (by default what is left of it): a new fee refund, the fee's
 * `amount_refunded`, `refunded` and `refunds` updated → `application_fee.refunded` (the fee).
 */
export function refundApplicationFee(
  state: EmulatorState,
  feeId: string,
  input: { amount?: number; metadata?: MetadataInput } = {},
): StripeObject {
  const { accountId, mode, record } = locateObject(state, "application_fee", feeId);
  const fee = record.object;
  const remaining = (fee.amount as number) - (fee.amount_refunded as number);
  if (remaining <= 0) throw apiError(400, { message: `Application fee ${feeId} has already been refunded.` });
  const amount = input.amount ?? remaining;
  if (!Number.isInteger(amount) || amount <= 0 || amount > remaining)
    throw apiError(400, {
      param: "amount",
      message: `Refund amount (${amount}) is greater than unrefunded amount on fee (${remaining})`,
    });
  const metadata = checkMetadata({}, input.metadata ?? {});
  const ctx = buildContext(state, accountId, mode, fee.currency as string);
  const refund = buildFeeRefund(ctx, fee, { amount, created: ctx.now, metadata });
  state.store.insert(accountId, mode, "fee_refund", refund);
  patchAndRecord(state, { accountId, mode }, fee, "application_fee.refunded", feeRefundPatch(fee, refund));
  return refund;
}

/** Updates a fee refund's metadata → `application_fee.refund.updated` (the fee refund), if anything changed. */
export function updateFeeRefund(
  state: EmulatorState,
  feeId: string,
  refundId: string,
  input: { metadata?: MetadataInput },
): StripeObject {
  locateObject(state, "application_fee", feeId);
  const { accountId, mode, record } = locateObject(state, "fee_refund", refundId);
  const refund = record.object;
  if (refund.fee !== feeId) throw errors.resourceMissing("fee refund", refundId);
  const current = refund.metadata as Record<string, string>;
  const next = checkMetadata(current, input.metadata ?? {});
  // Stripe's previous_attributes name each changed key with its old value (null when it was unset).
  const previous: Record<string, string | null> = {};
  for (const key of new Set([...Object.keys(current), ...Object.keys(next)]))
    if (current[key] !== next[key]) previous[key] = current[key] ?? null;
  refund.metadata = next;
  if (Object.keys(previous).length > 0)
    recordEvent(state, {
      accountId,
      mode,
      type: "application_fee.refund.updated",
      object: refund,
      previousAttributes: { metadata: previous },
    });
  return refund;
}
