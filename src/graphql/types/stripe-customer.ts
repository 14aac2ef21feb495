import { addConnectionList, connectionTypeOf, syncedNode } from "../stripe-objects.ts";

export const StripeCustomerRef = syncedNode("StripeCustomer", (t) => ({
  email: t.exposeString("email", { nullable: true }),
  name: t.exposeString("name", { nullable: true }),
  deleted: t.exposeBoolean("deleted"),
}));

addConnectionList({
  field: "customers",
  model: "StripeCustomer",
  connectionType: connectionTypeOf("StripeCustomer", StripeCustomerRef),
  prefixes: ["cus_"],
  filters: [
    { arg: "created", kind: "range", column: "created" },
    { arg: "deleted", kind: "flag", column: "deleted" },
  ],
});
