// The resource registry: every synced Stripe object type, described once. Backfill, event application,
// pubsub topics and GraphQL connections are all driven from this table (DESIGN.md, "The resource registry").

/** A Stripe object as it arrives: only `id` is certain; anything else may be absent or new. */
export type StripeObject = { id: string; object?: string; [field: string]: unknown };

export type ResourceKey =
  | "payouts"
  | "charges"
  | "refunds"
  | "disputes"
  | "balance_transactions"
  | "customers"
  | "subscriptions"
  | "application_fees"
  | "issuing_authorizations"
  | "issuing_transactions";

/** The Prisma delegate of each synced model (names as on PrismaClient). */
export type ModelName =
  | "stripePayout"
  | "stripeCharge"
  | "stripeRefund"
  | "stripeDispute"
  | "stripeBalanceTransaction"
  | "stripeCustomer"
  | "stripeSubscription"
  | "stripeApplicationFee"
  | "stripeIssuingAuthorization"
  | "stripeIssuingTransaction";

export type ResourceSpec = {
  key: ResourceKey;
  /** `object` field of the Stripe object */
  object: string;
  listPath: string;
  /** Stripe Apps permission needed to read it */
  permission: string;
  model: ModelName;
  /** Typed columns taken from the raw object, for filtering and sorting. */
  columns(object: StripeObject): Record<string, unknown>;
  /** Event types whose data.object is this resource. */
  eventTypes: readonly string[];
  /** Extra list parameters for backfill (e.g. subscriptions of every status). */
  listParams?: Record<string, string>;
  /**
   * The model has a `deleted` column, set by the resource's `*.deleted` events (even when the payload
   * lacks `deleted: true`) and by a payload that says so; never unset.
   */
  deletable?: true;
  /**
   * Other objects its events change without an event of their own (a dispute sets its charge's
   * `disputed`): read again from Stripe after the event is applied. `field` holds their id.
   */
  changesAlso?: readonly { resource: ResourceKey; field: string }[];
  /** pubsub topic announcing changes, for resources that have a subscription */
  topic?: "payout:updated" | "charge:updated" | "refund:updated" | "dispute:updated";
};

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);
const bool = (value: unknown): boolean => value === true;
const amount = (value: unknown): bigint =>
  BigInt(typeof value === "number" && Number.isFinite(value) ? Math.trunc(value) : 0);
/** Expandable fields hold an id or the expanded object. */
export const idOf = (value: unknown): string | null =>
  typeof value === "string"
    ? value
    : value && typeof value === "object"
      ? str((value as StripeObject).id)
      : null;
export const unixToDate = (value: unknown): Date => new Date((typeof value === "number" ? value : 0) * 1000);
const nullableDate = (value: unknown): Date | null =>
  typeof value === "number" && value > 0 ? unixToDate(value) : null;

export const RESOURCES: readonly ResourceSpec[] = [
  {
    key: "payouts",
    object: "payout",
    listPath: "/v1/payouts",
    permission: "payout_read",
    model: "stripePayout",
    topic: "payout:updated",
    eventTypes: [
      "payout.created",
      "payout.updated",
      "payout.paid",
      "payout.failed",
      "payout.canceled",
      "payout.reconciliation_completed",
    ],
    columns: (o) => ({
      amount: amount(o.amount),
      currency: str(o.currency) ?? "",
      status: str(o.status) ?? "",
      arrivalDate: unixToDate(o.arrival_date),
      method: str(o.method),
      type: str(o.type),
      automatic: typeof o.automatic === "boolean" ? o.automatic : null,
      description: str(o.description),
      failureCode: str(o.failure_code),
      failureMessage: str(o.failure_message),
      reconciliationStatus: str(o.reconciliation_status),
    }),
  },
  {
    key: "charges",
    object: "charge",
    listPath: "/v1/charges",
    permission: "charge_read",
    model: "stripeCharge",
    topic: "charge:updated",
    eventTypes: [
      "charge.captured",
      "charge.expired",
      "charge.failed",
      "charge.pending",
      "charge.refunded",
      "charge.succeeded",
      "charge.updated",
    ],
    columns: (o) => ({
      amount: amount(o.amount),
      amountCaptured: amount(o.amount_captured),
      amountRefunded: amount(o.amount_refunded),
      currency: str(o.currency) ?? "",
      status: str(o.status) ?? "",
      paid: bool(o.paid),
      refunded: bool(o.refunded),
      disputed: bool(o.disputed),
      captured: bool(o.captured),
      description: str(o.description),
      customerId: idOf(o.customer),
      paymentMethodType: str((o.payment_method_details as { type?: unknown } | null)?.type),
    }),
  },
  {
    key: "refunds",
    object: "refund",
    listPath: "/v1/refunds",
    permission: "charge_read",
    model: "stripeRefund",
    topic: "refund:updated",
    eventTypes: ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"],
    columns: (o) => ({
      amount: amount(o.amount),
      currency: str(o.currency) ?? "",
      status: str(o.status),
      chargeId: idOf(o.charge),
      reason: str(o.reason),
    }),
  },
  {
    key: "disputes",
    object: "dispute",
    listPath: "/v1/disputes",
    permission: "dispute_read",
    model: "stripeDispute",
    changesAlso: [{ resource: "charges", field: "charge" }],
    topic: "dispute:updated",
    eventTypes: [
      "charge.dispute.created",
      "charge.dispute.updated",
      "charge.dispute.closed",
      "charge.dispute.funds_withdrawn",
      "charge.dispute.funds_reinstated",
    ],
    columns: (o) => ({
      amount: amount(o.amount),
      currency: str(o.currency) ?? "",
      status: str(o.status) ?? "",
      reason: str(o.reason) ?? "",
      chargeId: idOf(o.charge),
      evidenceDueBy: nullableDate((o.evidence_details as { due_by?: unknown } | null)?.due_by),
    }),
  },
  {
    key: "balance_transactions",
    object: "balance_transaction",
    listPath: "/v1/balance_transactions",
    permission: "balance_read",
    model: "stripeBalanceTransaction",
    eventTypes: [],
    columns: (o) => ({
      amount: amount(o.amount),
      fee: amount(o.fee),
      net: amount(o.net),
      currency: str(o.currency) ?? "",
      type: str(o.type) ?? "",
      reportingCategory: str(o.reporting_category),
      status: str(o.status) ?? "",
      sourceId: idOf(o.source),
      availableOn: unixToDate(o.available_on),
    }),
  },
  {
    key: "customers",
    object: "customer",
    listPath: "/v1/customers",
    permission: "customer_read",
    model: "stripeCustomer",
    deletable: true,
    eventTypes: ["customer.created", "customer.updated", "customer.deleted"],
    columns: (o) => ({ email: str(o.email), name: str(o.name), deleted: bool(o.deleted) }),
  },
  {
    key: "subscriptions",
    object: "subscription",
    listPath: "/v1/subscriptions",
    permission: "subscription_read",
    model: "stripeSubscription",
    deletable: true,
    listParams: { status: "all" },
    eventTypes: [
      "customer.subscription.created",
      "customer.subscription.updated",
      "customer.subscription.deleted",
      "customer.subscription.paused",
      "customer.subscription.resumed",
      "customer.subscription.pending_update_applied",
      "customer.subscription.pending_update_expired",
      "customer.subscription.trial_will_end",
    ],
    columns: (o) => ({
      status: str(o.status) ?? "",
      customerId: idOf(o.customer),
      currency: str(o.currency),
      deleted: bool(o.deleted),
    }),
  },
  {
    key: "application_fees",
    object: "application_fee",
    listPath: "/v1/application_fees",
    permission: "application_fee_read",
    model: "stripeApplicationFee",
    eventTypes: ["application_fee.created", "application_fee.refunded"],
    columns: (o) => ({
      amount: amount(o.amount),
      amountRefunded: amount(o.amount_refunded),
      currency: str(o.currency) ?? "",
      chargeId: idOf(o.charge),
    }),
  },
  {
    key: "issuing_authorizations",
    object: "issuing.authorization",
    listPath: "/v1/issuing/authorizations",
    permission: "issuing_authorization_read",
    model: "stripeIssuingAuthorization",
    eventTypes: [
      "issuing_authorization.created",
      "issuing_authorization.updated",
      "issuing_authorization.request",
    ],
    columns: (o) => ({
      amount: amount(o.amount),
      currency: str(o.currency) ?? "",
      status: str(o.status) ?? "",
      approved: bool(o.approved),
    }),
  },
  {
    key: "issuing_transactions",
    object: "issuing.transaction",
    listPath: "/v1/issuing/transactions",
    permission: "issuing_transaction_read",
    model: "stripeIssuingTransaction",
    eventTypes: [
      "issuing_transaction.created",
      "issuing_transaction.updated",
      "issuing_transaction.purchase_details_receipt_updated",
    ],
    columns: (o) => ({ amount: amount(o.amount), currency: str(o.currency) ?? "", type: str(o.type) ?? "" }),
  },
];

export const RESOURCE_BY_KEY = new Map(RESOURCES.map((resource) => [resource.key, resource]));
const RESOURCE_BY_EVENT = new Map(
  RESOURCES.flatMap((resource) => resource.eventTypes.map((type) => [type, resource])),
);

/** True for an event that removes its object at Stripe (`customer.deleted`, …). */
export function isDeletionEvent(resource: ResourceSpec, type: string): boolean {
  return resource.deletable === true && type.endsWith(".deleted");
}

/** The resource an event's data.object belongs to, when it is a synced one. */
export function resourceForEvent(type: string): ResourceSpec | undefined {
  return RESOURCE_BY_EVENT.get(type);
}

export function rowId(connectionId: string, stripeId: string): string {
  return `${connectionId}:${stripeId}`;
}
