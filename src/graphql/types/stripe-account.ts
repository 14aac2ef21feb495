import { builder } from "../builder.ts";
import { toSafeInt } from "../stripe-objects.ts";

builder.prismaObject("StripeAccount", {
  fields: (t) => ({
    stripeId: t.exposeString("stripeId"),
    businessName: t.exposeString("businessName", { nullable: true }),
    email: t.exposeString("email", { nullable: true }),
    country: t.exposeString("country", { nullable: true }),
    defaultCurrency: t.exposeString("defaultCurrency", { nullable: true }),
    chargesEnabled: t.exposeBoolean("chargesEnabled", { nullable: true }),
    payoutsEnabled: t.exposeBoolean("payoutsEnabled", { nullable: true }),
    raw: t.expose("raw", { type: "JSON" }),
  }),
});

type Amount = { amount: number; currency: string };

const StripeBalanceAmount = builder.objectRef<Amount>("StripeBalanceAmount").implement({
  fields: (t) => ({
    amount: t.field({ type: "SafeInt", resolve: (a) => toSafeInt(a.amount) }),
    currency: t.exposeString("currency"),
  }),
});

/** One of the balance's per-currency arrays; absent arrays (older API versions) read as empty. */
function amounts(raw: unknown, key: string): Amount[] {
  const list = (raw as Record<string, unknown> | null)?.[key];
  return Array.isArray(list)
    ? list.filter(
        (entry): entry is Amount => typeof entry?.amount === "number" && typeof entry?.currency === "string",
      )
    : [];
}

builder.prismaObject("StripeBalance", {
  fields: (t) => ({
    available: t.field({ type: [StripeBalanceAmount], resolve: (b) => amounts(b.raw, "available") }),
    pending: t.field({ type: [StripeBalanceAmount], resolve: (b) => amounts(b.raw, "pending") }),
    instantAvailable: t.field({
      type: [StripeBalanceAmount],
      resolve: (b) => amounts(b.raw, "instant_available"),
    }),
    connectReserved: t.field({
      type: [StripeBalanceAmount],
      resolve: (b) => amounts(b.raw, "connect_reserved"),
    }),
    fetchedAt: t.expose("fetchedAt", { type: "DateTime" }),
  }),
});

builder.prismaObject("StripeSyncState", {
  fields: (t) => ({
    resource: t.exposeString("resource", {
      description:
        "a resource of the registry, `account`, `payout_transactions`, `events` (the poller) or `relist`",
    }),
    status: t.exposeString("status", { description: "pending, running, done, failed or forbidden" }),
    objectsSynced: t.exposeInt("objectsSynced"),
    objectsSkipped: t.exposeInt("objectsSkipped", {
      description: "objects Stripe listed that the gateway could not read (logged with their ids)",
    }),
    lastSyncedAt: t.expose("lastSyncedAt", { type: "DateTime", nullable: true }),
    error: t.exposeString("error", { nullable: true }),
  }),
});

builder.prismaObjectFields("StripeConnection", (t) => ({
  account: t.relation("account", { nullable: true }),
  balance: t.relation("balance", { nullable: true }),
  syncStates: t.relation("syncStates", { query: { orderBy: { resource: "asc" } } }),
}));
