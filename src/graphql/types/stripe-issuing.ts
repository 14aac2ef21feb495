import { builder } from "../builder.ts";
import { addConnectionList, connectionTypeOf, orgScopedFindUnique, toInt } from "../stripe-objects.ts";

export const StripeIssuingAuthorizationRef = builder.prismaNode("StripeIssuingAuthorization", {
  id: { field: "id" },
  nullable: true,
  findUnique: orgScopedFindUnique,
  fields: (t) => ({
    stripeId: t.exposeString("stripeId"),
    amount: t.int({ resolve: (o) => toInt(o.amount) }),
    currency: t.exposeString("currency"),
    status: t.exposeString("status"),
    approved: t.exposeBoolean("approved"),
    created: t.expose("created", { type: "DateTime" }),
    raw: t.expose("raw", { type: "JSON" }),
  }),
});

export const StripeIssuingTransactionRef = builder.prismaNode("StripeIssuingTransaction", {
  id: { field: "id" },
  nullable: true,
  findUnique: orgScopedFindUnique,
  fields: (t) => ({
    stripeId: t.exposeString("stripeId"),
    amount: t.int({ resolve: (o) => toInt(o.amount) }),
    currency: t.exposeString("currency"),
    type: t.exposeString("type"),
    created: t.expose("created", { type: "DateTime" }),
    raw: t.expose("raw", { type: "JSON" }),
  }),
});

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
