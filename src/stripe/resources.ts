// The resource registry: every Stripe object the gateway syncs, described once. Backfill, polling, event
// application, pubsub topics, GraphQL types, lists and subscriptions, and the Stripe App's permission list
// are all generated from these tables (docs/adding-a-resource.md).
import { type Column, column, idOf } from "./columns.ts";
import { STRIPE_PERMISSIONS, type StripePermission } from "./permissions.ts";

export { idOf, unixToDate } from "./columns.ts";

import type { StripeObject } from "./stripe-object.ts";

export type { StripeObject } from "./stripe-object.ts";

/** A GraphQL list argument: a set of values of a column, a date range, a flag, or one exact value. */
export type ListFilter = { kind: "values" | "range" | "flag" | "equals"; column: string };

/**
 * Objects Stripe lists only below another object (a fee's refunds), or an association Stripe keeps off
 * the object (the payout a balance transaction was paid out in): listed for each stored parent after
 * the top-level lists, and again when the parent receives one of `refetchOn`.
 */
export type PerParentList = {
  parent: string;
  path(parentId: string): string;
  params?(parentId: string): Record<string, string>;
  /** Only parents that can have any (a column filter on the parent model). */
  parentWhere: Record<string, unknown>;
  /** A column of this resource that stores the parent's id, when the object does not carry it. */
  linkColumn?: string;
  /** Events of the parent after which its list is read again. */
  refetchOn: readonly string[];
  /** Name of its sync state (progress in `syncStates`). */
  state: string;
  permission: StripePermission;
};

export type ResourceSpec = {
  key: string;
  /** `object` field of the Stripe object */
  object: string;
  /** Prisma delegate of the model (the table is the same name, capitalised) */
  model: string;
  permission: StripePermission;
  /** Stripe id prefixes, for cursor checks */
  idPrefixes: readonly string[];
  /** Typed columns taken from the raw object, for filtering and sorting (GraphQL fields of the same names). */
  columns: Record<string, Column>;
  /** Event types whose data.object is this resource. */
  eventTypes: readonly string[];
  /** A top-level Stripe list of every object. */
  list?: { path: string; params?: Record<string, string> };
  perParent?: PerParentList;
  /** Where one object is read again (ties, changes of other objects' events); default `${list.path}/:id`. */
  retrievePath?(object: StripeObject): string | null;
  /**
   * The model has a `deleted` column, set by the resource's `*.deleted` events (even when the payload
   * lacks `deleted: true`) and by a payload that says so; never unset.
   */
  deletable?: true;
  /**
   * Other objects its events change without an event of their own (a dispute sets its charge's
   * `disputed`): read again from Stripe after the event is applied. `field` holds their id.
   */
  changesAlso?: readonly { resource: string; field: string }[];
  graphql: {
    /** `StripeConnection.<list>` */
    list: string;
    filters: Record<string, ListFilter>;
    /** `<parent type>.<field>`: this resource's objects of one parent, by a column holding its id. */
    childOf?: { parent: string; column: string; field: string; description?: string };
    /** `Subscription.<subscription>`: every new state of one, announced on the resource's topic. */
    live?: { subscription: string; noun: string };
  };
};

/** A resource Stripe has one of per account, read whole (`GET /v1/account`). */
export type SingletonSpec = {
  key: string;
  path: string;
  /** Prisma delegate of the model, keyed by connectionId */
  model: string;
  permission: StripePermission;
  columns: Record<string, Column>;
  eventTypes: readonly string[];
  /** The column that says when it was last written (`syncedAt`, `fetchedAt`). */
  writtenAtColumn: string;
  /**
   * "tie": a version of the same second as the stored one is settled by reading it again, like the
   * list resources; "replace": it simply replaces the stored one (the balance, which only grows newer).
   */
  sameSecond: "tie" | "replace";
  /** Read on every poll as well: Stripe announces its changes only to destinations that ask. */
  readEachPoll?: true;
  /** The row has a livemode column, the object's own or the connection's. */
  livemode?: true;
};

const range = (name: string): ListFilter => ({ kind: "range", column: name });
const values = (name: string): ListFilter => ({ kind: "values", column: name });
const created = { created: range("created") };

export const RESOURCES = [
  {
    key: "payouts",
    object: "payout",
    model: "stripePayout",
    permission: "payout_read",
    idPrefixes: ["po_"],
    list: { path: "/v1/payouts" },
    eventTypes: [
      "payout.created",
      "payout.updated",
      "payout.paid",
      "payout.failed",
      "payout.canceled",
      "payout.reconciliation_completed",
    ],
    columns: {
      amount: column.amount("amount"),
      currency: column.text("currency"),
      status: column.text("status"),
      arrivalDate: column.date("arrival_date"),
      method: column.optionalText("method"),
      type: column.optionalText("type"),
      automatic: column.optionalFlag("automatic"),
      description: column.optionalText("description"),
      failureCode: column.optionalText("failure_code"),
      failureMessage: column.optionalText("failure_message"),
      reconciliationStatus: column.optionalText("reconciliation_status"),
    },
    graphql: {
      list: "payouts",
      filters: { status: values("status"), arrivalDate: range("arrivalDate"), ...created },
      live: { subscription: "payoutUpdated", noun: "payout" },
    },
  },
  {
    key: "charges",
    object: "charge",
    model: "stripeCharge",
    permission: "charge_read",
    idPrefixes: ["ch_", "py_"],
    list: { path: "/v1/charges" },
    eventTypes: [
      "charge.captured",
      "charge.expired",
      "charge.failed",
      "charge.pending",
      "charge.refunded",
      "charge.succeeded",
      "charge.updated",
    ],
    columns: {
      amount: column.amount("amount"),
      amountCaptured: column.amount("amount_captured"),
      amountRefunded: column.amount("amount_refunded"),
      currency: column.text("currency"),
      status: column.text("status"),
      paid: column.flag("paid"),
      refunded: column.flag("refunded"),
      disputed: column.flag("disputed"),
      captured: column.flag("captured"),
      description: column.optionalText("description"),
      customerId: column.id("customer"),
      paymentMethodType: column.optionalText("payment_method_details.type"),
    },
    graphql: {
      list: "charges",
      filters: { status: values("status"), ...created },
      live: { subscription: "chargeUpdated", noun: "charge" },
    },
  },
  {
    key: "refunds",
    object: "refund",
    model: "stripeRefund",
    permission: "charge_read",
    idPrefixes: ["re_", "pyr_"],
    list: { path: "/v1/refunds" },
    eventTypes: ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"],
    columns: {
      amount: column.amount("amount"),
      currency: column.text("currency"),
      status: column.optionalText("status"),
      chargeId: column.id("charge"),
      reason: column.optionalText("reason"),
    },
    graphql: {
      list: "refunds",
      filters: created,
      childOf: { parent: "charges", column: "chargeId", field: "refunds" },
      live: { subscription: "refundUpdated", noun: "refund" },
    },
  },
  {
    key: "disputes",
    object: "dispute",
    model: "stripeDispute",
    permission: "dispute_read",
    idPrefixes: ["dp_", "du_"],
    list: { path: "/v1/disputes" },
    changesAlso: [{ resource: "charges", field: "charge" }],
    eventTypes: [
      "charge.dispute.created",
      "charge.dispute.updated",
      "charge.dispute.closed",
      "charge.dispute.funds_withdrawn",
      "charge.dispute.funds_reinstated",
    ],
    columns: {
      amount: column.amount("amount"),
      currency: column.text("currency"),
      status: column.text("status"),
      reason: column.text("reason"),
      chargeId: column.id("charge"),
      evidenceDueBy: column.optionalDate("evidence_details.due_by"),
    },
    graphql: {
      list: "disputes",
      filters: { status: values("status"), ...created },
      live: { subscription: "disputeUpdated", noun: "dispute" },
    },
  },
  {
    key: "balance_transactions",
    object: "balance_transaction",
    model: "stripeBalanceTransaction",
    permission: "balance_read",
    idPrefixes: ["txn_"],
    list: { path: "/v1/balance_transactions" },
    // Only automatic payouts can be reconciled; Stripe keeps the association off the transaction.
    perParent: {
      parent: "payouts",
      path: () => "/v1/balance_transactions",
      params: (payoutId) => ({ payout: payoutId }),
      parentWhere: { reconciliationStatus: "completed" },
      linkColumn: "payoutId",
      refetchOn: ["payout.reconciliation_completed"],
      state: "payout_transactions",
      permission: "balance_transaction_source_read",
    },
    eventTypes: [],
    columns: {
      amount: column.amount("amount"),
      fee: column.amount("fee"),
      net: column.amount("net"),
      currency: column.text("currency"),
      type: column.text("type"),
      reportingCategory: column.optionalText("reporting_category"),
      status: column.text("status"),
      sourceId: column.id("source"),
      payoutId: column.link("po_… this transaction was paid out in"),
      availableOn: column.date("available_on"),
    },
    graphql: {
      list: "balanceTransactions",
      filters: { payoutId: { kind: "equals", column: "payoutId" }, type: values("type"), ...created },
      childOf: {
        parent: "payouts",
        column: "payoutId",
        field: "balanceTransactions",
        description: "The balance transactions paid out in this payout (once Stripe has reconciled it).",
      },
    },
  },
  {
    key: "customers",
    object: "customer",
    model: "stripeCustomer",
    permission: "customer_read",
    idPrefixes: ["cus_"],
    list: { path: "/v1/customers" },
    deletable: true,
    eventTypes: ["customer.created", "customer.updated", "customer.deleted"],
    columns: {
      email: column.optionalText("email"),
      name: column.optionalText("name"),
      deleted: column.flag("deleted"),
    },
    graphql: { list: "customers", filters: { ...created, deleted: { kind: "flag", column: "deleted" } } },
  },
  {
    key: "subscriptions",
    object: "subscription",
    model: "stripeSubscription",
    permission: "subscription_read",
    idPrefixes: ["sub_"],
    list: { path: "/v1/subscriptions", params: { status: "all" } },
    deletable: true,
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
    columns: {
      status: column.text("status"),
      customerId: column.id("customer"),
      currency: column.optionalText("currency"),
      deleted: column.flag(
        "deleted",
        "A customer.subscription.deleted event was applied: Stripe's word for an ended subscription.",
      ),
    },
    graphql: {
      list: "subscriptions",
      filters: { status: values("status"), deleted: { kind: "flag", column: "deleted" } },
    },
  },
  {
    key: "application_fees",
    object: "application_fee",
    model: "stripeApplicationFee",
    permission: "application_fee_read",
    idPrefixes: ["fee_"],
    list: { path: "/v1/application_fees" },
    eventTypes: ["application_fee.created", "application_fee.refunded"],
    columns: {
      amount: column.amount("amount"),
      amountRefunded: column.amount("amount_refunded"),
      currency: column.text("currency"),
      chargeId: column.id("charge"),
    },
    graphql: { list: "applicationFees", filters: created },
  },
  {
    key: "application_fee_refunds",
    object: "fee_refund",
    model: "stripeApplicationFeeRefund",
    permission: "application_fee_read",
    idPrefixes: ["fr_"],
    // Stripe lists them only per fee, and announces a new one as its fee's `application_fee.refunded`.
    perParent: {
      parent: "application_fees",
      path: (feeId) => `/v1/application_fees/${encodeURIComponent(feeId)}/refunds`,
      parentWhere: { amountRefunded: { gt: 0 } },
      refetchOn: ["application_fee.refunded"],
      state: "application_fee_refunds",
      permission: "application_fee_read",
    },
    retrievePath: (object) => {
      const feeId = idOf(object.fee);
      return feeId
        ? `/v1/application_fees/${encodeURIComponent(feeId)}/refunds/${encodeURIComponent(object.id)}`
        : null;
    },
    eventTypes: ["application_fee.refund.updated"],
    columns: {
      amount: column.amount("amount"),
      currency: column.text("currency"),
      feeId: column.id("fee"),
      balanceTransactionId: column.id("balance_transaction"),
    },
    graphql: {
      list: "applicationFeeRefunds",
      filters: created,
      childOf: { parent: "application_fees", column: "feeId", field: "refunds" },
    },
  },
  {
    key: "issuing_authorizations",
    object: "issuing.authorization",
    model: "stripeIssuingAuthorization",
    permission: "issuing_authorization_read",
    idPrefixes: ["iauth_"],
    list: { path: "/v1/issuing/authorizations" },
    eventTypes: [
      "issuing_authorization.created",
      "issuing_authorization.updated",
      "issuing_authorization.request",
    ],
    columns: {
      amount: column.amount("amount"),
      currency: column.text("currency"),
      status: column.text("status"),
      approved: column.flag("approved"),
    },
    graphql: { list: "issuingAuthorizations", filters: created },
  },
  {
    key: "issuing_transactions",
    object: "issuing.transaction",
    model: "stripeIssuingTransaction",
    permission: "issuing_transaction_read",
    idPrefixes: ["ipi_"],
    list: { path: "/v1/issuing/transactions" },
    eventTypes: [
      "issuing_transaction.created",
      "issuing_transaction.updated",
      "issuing_transaction.purchase_details_receipt_updated",
    ],
    columns: {
      amount: column.amount("amount"),
      currency: column.text("currency"),
      type: column.text("type"),
    },
    graphql: { list: "issuingTransactions", filters: created },
  },
] as const satisfies readonly ResourceSpec[];

export const SINGLETONS = [
  {
    key: "account",
    path: "/v1/account",
    model: "stripeAccount",
    permission: "connected_account_read",
    eventTypes: ["account.updated"],
    writtenAtColumn: "syncedAt",
    sameSecond: "tie",
    columns: {
      stripeId: column.text("id"),
      businessName: column.optionalText("business_profile.name", "settings.dashboard.display_name"),
      email: column.optionalText("email"),
      country: column.optionalText("country"),
      defaultCurrency: column.optionalText("default_currency"),
      chargesEnabled: column.optionalFlag("charges_enabled"),
      payoutsEnabled: column.optionalFlag("payouts_enabled"),
    },
  },
  {
    key: "balance",
    path: "/v1/balance",
    model: "stripeBalance",
    permission: "balance_read",
    // Stripe sends balance.available only to destinations that ask for it: read on every poll.
    eventTypes: ["balance.available"],
    writtenAtColumn: "fetchedAt",
    sameSecond: "replace",
    readEachPoll: true,
    livemode: true,
    columns: {},
  },
] as const satisfies readonly SingletonSpec[];

/** Stripe's event log, read by the poller; the events themselves are stored as received. */
export const EVENTS = { key: "events", path: "/v1/events", permission: "event_read" } as const;

/** Events about the connection itself rather than one of its objects. */
export const CONNECTION_EVENT_TYPES = ["account.application.deauthorized"] as const;

export type Resource = (typeof RESOURCES)[number];
export type ResourceKey = Resource["key"];
export type Singleton = (typeof SINGLETONS)[number];

export const RESOURCE_BY_KEY = new Map<string, ResourceSpec>(
  RESOURCES.map((resource) => [resource.key, resource]),
);

const RESOURCE_BY_EVENT = new Map<string, ResourceSpec>(
  RESOURCES.flatMap((resource) => resource.eventTypes.map((type) => [type, resource] as const)),
);
const SINGLETON_BY_EVENT = new Map<string, SingletonSpec>(
  SINGLETONS.flatMap((singleton) => singleton.eventTypes.map((type) => [type, singleton] as const)),
);

/** Every event type the gateway applies: what a webhook destination should send. */
export const APPLIED_EVENT_TYPES: readonly string[] = [
  ...RESOURCES.flatMap((resource) => resource.eventTypes),
  ...SINGLETONS.flatMap((singleton) => singleton.eventTypes),
  ...CONNECTION_EVENT_TYPES,
];

/** The resource an event's data.object belongs to, when it is a synced one. */
export function resourceForEvent(type: string): ResourceSpec | undefined {
  return RESOURCE_BY_EVENT.get(type);
}

export function singletonForEvent(type: string): SingletonSpec | undefined {
  return SINGLETON_BY_EVENT.get(type);
}

export type PerParentResource = ResourceSpec & { perParent: PerParentList };

/** Resources listed per parent, in registry order (after the lists of their parents). */
export const PER_PARENT_RESOURCES: readonly PerParentResource[] = (
  RESOURCES as readonly ResourceSpec[]
).filter((resource): resource is PerParentResource => resource.perParent !== undefined);

/** Resources whose per-parent list is read again after this event of their parent. */
export function perParentListsAfter(type: string): PerParentResource[] {
  return PER_PARENT_RESOURCES.filter((resource) => resource.perParent.refetchOn.includes(type));
}

/** True for an event that removes its object at Stripe (`customer.deleted`, …). */
export function isDeletionEvent(resource: ResourceSpec, type: string): boolean {
  return resource.deletable === true && type.endsWith(".deleted");
}

/** Where one object of a resource is read from Stripe. */
export function retrievePathOf(resource: ResourceSpec, object: StripeObject): string | null {
  if (resource.retrievePath) return resource.retrievePath(object);
  return resource.list ? `${resource.list.path}/${encodeURIComponent(object.id)}` : null;
}

/** Every permission the registry needs, with the purpose merchants read at install, in the guide's order. */
export function requiredPermissions(): { permission: StripePermission; purpose: string }[] {
  const used = new Set<StripePermission>([
    ...RESOURCES.flatMap((resource: ResourceSpec) => [
      resource.permission,
      ...(resource.perParent ? [resource.perParent.permission] : []),
    ]),
    ...SINGLETONS.map((singleton) => singleton.permission),
    EVENTS.permission,
  ]);
  return (Object.keys(STRIPE_PERMISSIONS) as StripePermission[])
    .filter((permission) => used.has(permission))
    .map((permission) => ({ permission, purpose: STRIPE_PERMISSIONS[permission] }));
}

export function rowId(connectionId: string, stripeId: string): string {
  return `${connectionId}:${stripeId}`;
}
