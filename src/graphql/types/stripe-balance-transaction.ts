import { addConnectionList, connectionTypeOf, syncedNode, toSafeInt } from "../stripe-objects.ts";

export const StripeBalanceTransactionRef = syncedNode("StripeBalanceTransaction", (t) => ({
  amount: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amount) }),
  fee: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.fee) }),
  net: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.net) }),
  currency: t.exposeString("currency"),
  type: t.exposeString("type"),
  reportingCategory: t.exposeString("reportingCategory", { nullable: true }),
  status: t.exposeString("status"),
  sourceId: t.exposeString("sourceId", { nullable: true }),
  payoutId: t.exposeString("payoutId", {
    nullable: true,
    description: "po_… this transaction was paid out in",
  }),
  availableOn: t.expose("availableOn", { type: "DateTime" }),
}));

export const StripeBalanceTransactionConnection = connectionTypeOf(
  "StripeBalanceTransaction",
  StripeBalanceTransactionRef,
);

addConnectionList({
  field: "balanceTransactions",
  model: "StripeBalanceTransaction",
  connectionType: StripeBalanceTransactionConnection,
  prefixes: ["txn_"],
  filters: [
    { arg: "type", kind: "values", column: "type" },
    { arg: "created", kind: "range", column: "created" },
  ],
  extraArgs: { payoutId: "String" },
  extraWhere: (args) => (args.payoutId ? { payoutId: args.payoutId } : {}),
});
