import { type GeneratorScope, insertAll } from "./dataset-scope.ts";
import { buildEvent, fromFixture } from "./objects.ts";
import type { StripeObject } from "./types.ts";

const DAY = 86_400;
const FIRST = ["Jenny", "Ada", "Alan", "Grace", "Linus", "Marie", "Katherine", "Tim", "Barbara", "Edsger"];
const LAST = [
  "Rosen",
  "Lovelace",
  "Turing",
  "Hopper",
  "Pauling",
  "Curie",
  "Johnson",
  "Berners-Lee",
  "Liskov",
];
const SUBSCRIPTION_STATUSES = [
  "active",
  "active",
  "active",
  "active",
  "canceled",
  "trialing",
  "past_due",
  "incomplete_expired",
  "unpaid",
  "paused",
] as const;
const MERCHANTS = [
  ["Rocket Rides", "taxicabs_limousines", "4121", "San Francisco"],
  ["Blue Bottle", "eating_places_restaurants", "5812", "Oakland"],
  ["Office Hub", "stationery_stores_office_and_school_supply_stores", "5111", "New York"],
  ["Fuel Stop", "automated_fuel_dispensers", "5542", "Austin"],
] as const;

export function generateCustomers(
  scope: GeneratorScope,
  options: { count: number; start: number },
): string[] {
  const { ctx, random } = scope;
  const customers: StripeObject[] = [];
  for (let i = 0; i < options.count; i++) {
    const first = random.pick(FIRST);
    const last = random.pick(LAST);
    customers.push(
      fromFixture("customer", {
        id: random.id("cus", 14),
        created: random.int(options.start - 60 * DAY, ctx.now - DAY),
        currency: ctx.currency,
        email: `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.com`,
        invoice_prefix: random.chars(8).toUpperCase(),
        livemode: ctx.livemode,
        name: `${first} ${last}`,
      }),
    );
  }
  insertAll(scope, "customer", customers);
  return customers.map((customer) => customer.id);
}

export function generateSubscriptions(
  scope: GeneratorScope,
  options: { customers: string[]; start: number },
): void {
  const { ctx, random } = scope;
  const subscriptions: StripeObject[] = [];
  for (const customer of options.customers) {
    if (!random.chance(0.6)) continue;
    const id = ctx.id("sub");
    const created = random.int(options.start, ctx.now - DAY);
    const status = random.pick(SUBSCRIPTION_STATUSES);
    const periodStart = created + Math.floor((ctx.now - created) / (30 * DAY)) * 30 * DAY;
    const ended = status === "canceled" || status === "incomplete_expired";
    const subscription = fromFixture("subscription", {
      id,
      billing_cycle_anchor: created,
      canceled_at: ended ? periodStart : null,
      created,
      currency: ctx.currency,
      customer,
      ended_at: ended ? periodStart : null,
      livemode: ctx.livemode,
      start_date: created,
      status,
      trial_end: status === "trialing" ? ctx.now + 7 * DAY : null,
      trial_start: status === "trialing" ? created : null,
    });
    const items = subscription.items as { data: Array<Record<string, unknown>>; url: string };
    items.url = `/v1/subscription_items?subscription=${id}`;
    for (const item of items.data) {
      for (const nested of [item.price, item.plan])
        Object.assign(nested as object, { livemode: ctx.livemode });
      Object.assign(item, {
        id: random.id("si", 14),
        created,
        subscription: id,
        current_period_start: periodStart,
        current_period_end: periodStart + 30 * DAY,
      });
    }
    subscriptions.push(subscription);
  }
  insertAll(scope, "subscription", subscriptions);
}

export function generateIssuing(scope: GeneratorScope, options: { count: number; start: number }): void {
  const { ctx, random } = scope;
  const authorizations: StripeObject[] = [];
  const transactions: StripeObject[] = [];
  const cardholder = random.id("ich");
  const card = random.id("ic");
  for (let i = 0; i < options.count; i++) {
    const id = ctx.id("iauth");
    const created = random.int(options.start, ctx.now - 3600);
    const amount = random.int(3, 300) * 100;
    const status =
      created > ctx.now - DAY ? "pending" : random.pick(["closed", "closed", "closed", "reversed"]);
    const [name, category, code, city] = random.pick(MERCHANTS);
    const merchant = { category, category_code: code, city, name, network_id: random.chars(10) };
    const authorization = fromFixture("issuing.authorization", {
      id,
      amount: status === "pending" ? amount : 0,
      cardholder,
      created,
      currency: ctx.currency,
      livemode: ctx.livemode,
      merchant_amount: amount,
      merchant_currency: ctx.currency,
      status,
      transactions: [],
    });
    Object.assign(authorization.card as object, { id: card, livemode: ctx.livemode, currency: ctx.currency });
    Object.assign(authorization.merchant_data as object, merchant);
    authorizations.push(authorization);
    if (status !== "closed") continue;
    const type = random.chance(0.1) ? "refund" : "capture";
    const signed = type === "capture" ? -amount : amount;
    const transaction = fromFixture("issuing.transaction", {
      id: ctx.id("ipi"),
      amount: signed,
      authorization: id,
      balance_transaction: ctx.id("txn"),
      card,
      cardholder,
      created: created + random.int(60, DAY),
      currency: ctx.currency,
      livemode: ctx.livemode,
      merchant_amount: signed,
      merchant_currency: ctx.currency,
      type,
    });
    Object.assign(transaction.merchant_data as object, merchant);
    (authorization.transactions as StripeObject[]).push(transaction);
    transactions.push(transaction);
  }
  insertAll(scope, "issuing.authorization", authorizations);
  insertAll(scope, "issuing.transaction", transactions);
}

/** Recent history as events (payouts and charges of the last 30 days), so /v1/events is not empty. */
export function generateHistoryEvents(scope: GeneratorScope, apiVersion: string): void {
  const { store, accountId, mode, ctx } = scope;
  const since = ctx.now - 30 * DAY;
  const events: StripeObject[] = [];
  const add = (type: string, object: StripeObject, created: number) =>
    events.push(buildEvent(ctx, { type, account: accountId, object, created, apiVersion }));
  for (const { object } of store.collection(accountId, mode, "charge").items)
    if (object.created >= since) add("charge.succeeded", object, object.created);
  for (const { object } of store.collection(accountId, mode, "payout").items) {
    // Snapshots as they were then: a payout is created pending.
    if (object.created >= since) add("payout.created", { ...object, status: "pending" }, object.created);
    const arrival = object.arrival_date as number;
    if (object.status === "paid" && arrival >= since && arrival <= ctx.now)
      add("payout.paid", object, arrival);
  }
  insertAll(scope, "event", events);
}
