import { addConnectionList, connectionTypeOf, syncedNode } from "../stripe-objects.ts";

export const StripeSubscriptionRef = syncedNode("StripeSubscription", (t) => ({
  status: t.exposeString("status"),
  customerId: t.exposeString("customerId", { nullable: true }),
  currency: t.exposeString("currency", { nullable: true }),
  deleted: t.exposeBoolean("deleted", {
    description:
      "A customer.subscription.deleted event was applied: Stripe's word for an ended subscription.",
  }),
}));

addConnectionList({
  field: "subscriptions",
  model: "StripeSubscription",
  connectionType: connectionTypeOf("StripeSubscription", StripeSubscriptionRef),
  prefixes: ["sub_"],
  filters: [
    { arg: "status", kind: "values", column: "status" },
    { arg: "deleted", kind: "flag", column: "deleted" },
  ],
});
