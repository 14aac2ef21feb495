import { builder } from "../builder.ts";
import { addConnectionList, connectionTypeOf, orgScopedFindUnique } from "../stripe-objects.ts";

export const StripeSubscriptionRef = builder.prismaNode("StripeSubscription", {
  id: { field: "id" },
  nullable: true,
  findUnique: orgScopedFindUnique,
  fields: (t) => ({
    stripeId: t.exposeString("stripeId"),
    status: t.exposeString("status"),
    customerId: t.exposeString("customerId", { nullable: true }),
    currency: t.exposeString("currency", { nullable: true }),
    created: t.expose("created", { type: "DateTime" }),
    raw: t.expose("raw", { type: "JSON" }),
  }),
});

addConnectionList({
  field: "subscriptions",
  model: "StripeSubscription",
  connectionType: connectionTypeOf("StripeSubscription", StripeSubscriptionRef),
  prefixes: ["sub_"],
  filters: [{ arg: "status", kind: "values", column: "status" }],
});
