import { builder } from "../builder.ts";
import { addConnectionList, connectionTypeOf, orgScopedFindUnique } from "../stripe-objects.ts";

export const StripeCustomerRef = builder.prismaNode("StripeCustomer", {
  id: { field: "id" },
  nullable: true,
  findUnique: orgScopedFindUnique,
  fields: (t) => ({
    stripeId: t.exposeString("stripeId"),
    email: t.exposeString("email", { nullable: true }),
    name: t.exposeString("name", { nullable: true }),
    created: t.expose("created", { type: "DateTime" }),
    deleted: t.exposeBoolean("deleted"),
    raw: t.expose("raw", { type: "JSON" }),
  }),
});

addConnectionList({
  field: "customers",
  model: "StripeCustomer",
  connectionType: connectionTypeOf("StripeCustomer", StripeCustomerRef),
  prefixes: ["cus_"],
  filters: [{ arg: "created", kind: "range", column: "created" }],
});
