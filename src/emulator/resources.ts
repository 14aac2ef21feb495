import type { StoredRecord } from "./store.ts";
import type { Permission, StripeObject } from "./types.ts";

/** How a list filter matches a stored object. */
export type FilterSpec =
  /** `param[gt|gte|lt|lte]=<unix>` or `param=<unix>` on a numeric field. */
  | { param: string; kind: "range"; field?: string }
  /** Exact match on a (possibly expandable) id or string field. */
  | { param: string; kind: "equal"; field?: string }
  /** Exact match restricted to Stripe's documented values; `special` values have their own meaning. */
  | {
      param: string;
      kind: "enum";
      field?: string;
      values: readonly string[];
      special?: Record<string, SpecialMatch>;
    }
  /** An association Stripe keeps out of the object itself (e.g. a balance transaction's payout). */
  | {
      param: string;
      kind: "link";
      /** The resource the linked id must name (404 otherwise) and an extra check (400 message). */
      resource: string;
      check?: (target: StripeObject) => string | undefined;
    }
  /** Event types: `type` (with `*` wildcard) and `types[]`. */
  | { param: string; kind: "event-type" };

export type SpecialMatch = (object: StripeObject) => boolean;

export interface ResourceSpec {
  /** Key of the store collection and of the fixture in fixtures.json. */
  name: string;
  /** Path under /v1 (under the parent's `/:id` for sub-resources) of the list; retrieve is `${path}/:id`. */
  path: string;
  /** A sub-resource listed per parent object (fee refunds: `/v1/application_fees/:id/refunds`). */
  parent?: { resource: string; field: string };
  /** Word used in "No such <label>: 'id'". */
  label: string;
  prefix: string;
  permission: Permission;
  filters: readonly FilterSpec[];
  /** Fields holding an id that `expand[]` may replace by the object. */
  expandable: readonly string[];
  /** When no status filter is given, hide objects that do not pass (subscriptions hide canceled ones). */
  defaultVisible?: SpecialMatch;
  /** Fields derived at read time from the emulator clock (unix seconds). */
  present?: (record: StoredRecord, now: number) => StripeObject;
  /** Only objects newer than this many seconds are served (events: 30 days). */
  retentionSeconds?: number;
}

const created: FilterSpec = { param: "created", kind: "range" };
const subscriptionStatuses = [
  "active",
  "all",
  "canceled",
  "ended",
  "incomplete",
  "incomplete_expired",
  "past_due",
  "paused",
  "trialing",
  "unpaid",
] as const;

/** Every Stripe resource the emulator serves; list and retrieve routes are generated from this table. */
export const RESOURCES: readonly ResourceSpec[] = [
  {
    name: "payout",
    path: "payouts",
    label: "payout",
    prefix: "po",
    permission: "payout_read",
    filters: [
      created,
      { param: "arrival_date", kind: "range" },
      { param: "destination", kind: "equal" },
      { param: "status", kind: "enum", values: ["pending", "paid", "failed", "canceled"] },
    ],
    expandable: ["balance_transaction", "failure_balance_transaction"],
  },
  {
    name: "charge",
    path: "charges",
    label: "charge",
    prefix: "ch",
    permission: "charge_read",
    filters: [
      created,
      { param: "customer", kind: "equal" },
      { param: "payment_intent", kind: "equal" },
      { param: "transfer_group", kind: "equal" },
    ],
    expandable: ["balance_transaction", "customer", "application_fee"],
  },
  {
    name: "refund",
    path: "refunds",
    label: "refund",
    prefix: "re",
    permission: "charge_read",
    filters: [created, { param: "charge", kind: "equal" }, { param: "payment_intent", kind: "equal" }],
    expandable: ["balance_transaction", "charge"],
  },
  {
    name: "dispute",
    path: "disputes",
    label: "dispute",
    prefix: "dp",
    permission: "dispute_read",
    filters: [created, { param: "charge", kind: "equal" }, { param: "payment_intent", kind: "equal" }],
    expandable: ["charge"],
  },
  {
    name: "balance_transaction",
    path: "balance_transactions",
    label: "balance transaction",
    prefix: "txn",
    permission: "balance_read",
    filters: [
      created,
      {
        param: "payout",
        kind: "link",
        resource: "payout",
        // Stripe only reconciles automatic payouts this way.
        check: (payout) =>
          payout.automatic
            ? undefined
            : "Balance transaction history can only be filtered on automatic transfers, not manual.",
      },
      { param: "source", kind: "equal" },
      { param: "type", kind: "equal" },
      { param: "currency", kind: "equal" },
    ],
    expandable: ["source"],
    present: (record, now) => ({
      ...record.object,
      status: fundsAvailable(record, now) ? "available" : "pending",
    }),
  },
  {
    name: "customer",
    path: "customers",
    label: "customer",
    prefix: "cus",
    permission: "customer_read",
    filters: [created, { param: "email", kind: "equal" }],
    expandable: [],
  },
  {
    name: "subscription",
    path: "subscriptions",
    label: "subscription",
    prefix: "sub",
    permission: "subscription_read",
    filters: [
      created,
      { param: "customer", kind: "equal" },
      { param: "collection_method", kind: "enum", values: ["charge_automatically", "send_invoice"] },
      {
        param: "status",
        kind: "enum",
        values: subscriptionStatuses,
        special: {
          all: () => true,
          ended: (sub) => sub.status === "canceled" || sub.status === "incomplete_expired",
        },
      },
    ],
    expandable: ["customer"],
    defaultVisible: (sub) => sub.status !== "canceled",
  },
  {
    name: "application_fee",
    path: "application_fees",
    label: "application fee",
    prefix: "fee",
    permission: "application_fee_read",
    filters: [created, { param: "charge", kind: "equal" }],
    expandable: ["balance_transaction", "charge"],
  },
  {
    // Stripe has no top-level fee refund list: only pagination under the fee.
    name: "fee_refund",
    path: "refunds",
    parent: { resource: "application_fee", field: "fee" },
    label: "fee refund",
    prefix: "fr",
    permission: "application_fee_read",
    filters: [],
    expandable: ["balance_transaction", "fee"],
  },
  {
    name: "event",
    path: "events",
    label: "event",
    prefix: "evt",
    permission: "event_read",
    filters: [created, { param: "type", kind: "event-type" }, { param: "types", kind: "event-type" }],
    expandable: [],
    retentionSeconds: 30 * 86_400,
  },
  {
    name: "issuing.authorization",
    path: "issuing/authorizations",
    label: "issuing authorization",
    prefix: "iauth",
    permission: "issuing_authorization_read",
    filters: [
      created,
      { param: "card", kind: "equal", field: "card.id" },
      { param: "cardholder", kind: "equal" },
      { param: "status", kind: "enum", values: ["closed", "expired", "pending", "reversed"] },
    ],
    expandable: [],
  },
  {
    name: "issuing.transaction",
    path: "issuing/transactions",
    label: "issuing transaction",
    prefix: "ipi",
    permission: "issuing_transaction_read",
    filters: [
      created,
      { param: "card", kind: "equal" },
      { param: "cardholder", kind: "equal" },
      { param: "type", kind: "enum", values: ["capture", "refund"] },
    ],
    expandable: ["authorization", "balance_transaction"],
  },
];

/** Funds are available from `available_on`; paid-out ones were available when their payout left. */
export function fundsAvailable({ object, links }: StoredRecord, now: number): boolean {
  return Boolean(links.payout) || (object.available_on as number) <= now;
}

const byName = new Map(RESOURCES.map((spec) => [spec.name, spec]));
const byPrefix = new Map(RESOURCES.map((spec) => [spec.prefix, spec]));

export function resourceSpec(name: string): ResourceSpec {
  const spec = byName.get(name);
  if (!spec) throw new Error(`Unknown emulator resource ${name}`);
  return spec;
}

/** The resource an id belongs to, from its prefix (`po_…` → payout). */
export function resourceForId(id: string): ResourceSpec | undefined {
  return byPrefix.get(id.slice(0, id.indexOf("_")));
}
