import { addConnectionList, connectionTypeOf, syncedNode, toSafeInt } from "../stripe-objects.ts";

export const StripeIssuingAuthorizationRef = syncedNode("StripeIssuingAuthorization", (t) => ({
  amount: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amount) }),
  currency: t.exposeString("currency"),
  status: t.exposeString("status"),
  approved: t.exposeBoolean("approved"),
}));

export const StripeIssuingTransactionRef = syncedNode("StripeIssuingTransaction", (t) => ({
  amount: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amount) }),
  currency: t.exposeString("currency"),
  type: t.exposeString("type"),
}));

addConnectionList({
  field: "issuingAuthorizations",
  model: "StripeIssuingAuthorization",
  connectionType: connectionTypeOf("StripeIssuingAuthorization", StripeIssuingAuthorizationRef),
  prefixes: ["iauth_"],
  filters: [{ arg: "created", kind: "range", column: "created" }],
});

addConnectionList({
  field: "issuingTransactions",
  model: "StripeIssuingTransaction",
  connectionType: connectionTypeOf("StripeIssuingTransaction", StripeIssuingTransactionRef),
  prefixes: ["ipi_"],
  filters: [{ arg: "created", kind: "range", column: "created" }],
});
