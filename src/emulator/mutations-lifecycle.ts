// Customer deletion, subscription cancellation and dispute evidence, with the events Stripe sends for them.
import { apiError, errors } from "./api-errors.ts";
import { locateObject } from "./mutations-payments.ts";
import { type EmulatorState, patchAndRecord, recordEvent } from "./state.ts";

/**
 * Deletes a customer as Stripe does: `customer.deleted` carries the customer as it was (without
 * `deleted: true`), lists no longer show it, and retrieving it answers the stub `{ id, object, deleted }`.
 */
export function deleteCustomer(state: EmulatorState, customerId: string) {
  const { accountId, mode, record } = locateObject(state, "customer", customerId);
  if (record.object.deleted === true) throw errors.resourceMissing("customer", customerId);
  recordEvent(state, { accountId, mode, type: "customer.deleted", object: record.object });
  // The stored stub keeps `created` so the store stays ordered; it is served without it (expand.ts).
  record.object = { id: customerId, object: "customer", deleted: true, created: record.object.created };
  return { id: customerId, object: "customer", deleted: true };
}

/** Cancels a subscription at once: `customer.subscription.deleted`, status `canceled`. */
export function cancelSubscription(state: EmulatorState, subscriptionId: string) {
  const { accountId, mode, record } = locateObject(state, "subscription", subscriptionId);
  const subscription = record.object;
  if (subscription.status === "canceled")
    throw apiError(400, {
      message: "A canceled subscription can only update its cancellation_details and metadata.",
      param: "subscription",
    });
  const now = state.clock.seconds();
  const patch = { status: "canceled", canceled_at: now, ended_at: now };
  patchAndRecord(state, { accountId, mode }, subscription, "customer.subscription.deleted", patch);
  return subscription;
}

/** The merchant submits evidence: `charge.dispute.updated`, status `under_review`. */
export function submitDisputeEvidence(state: EmulatorState, disputeId: string) {
  const { accountId, mode, record } = locateObject(state, "dispute", disputeId);
  const dispute = record.object;
  if (dispute.status !== "needs_response" && dispute.status !== "warning_needs_response")
    throw apiError(400, { message: `Dispute ${disputeId} is not awaiting a response.`, param: "dispute" });
  const evidence = dispute.evidence_details as Record<string, unknown> | undefined;
  const patch = {
    status: dispute.status === "needs_response" ? "under_review" : "warning_under_review",
    evidence_details: { ...evidence, has_evidence: true, submission_count: 1 },
  };
  patchAndRecord(state, { accountId, mode }, dispute, "charge.dispute.updated", patch);
  return dispute;
}
