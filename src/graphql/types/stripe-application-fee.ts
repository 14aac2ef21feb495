import { addConnectionList, connectionTypeOf, syncedNode, toSafeInt } from "../stripe-objects.ts";

export const StripeApplicationFeeRef = syncedNode("StripeApplicationFee", (t) => ({
  amount: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amount) }),
  amountRefunded: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amountRefunded) }),
  currency: t.exposeString("currency"),
  chargeId: t.exposeString("chargeId", { nullable: true }),
}));

addConnectionList({
  field: "applicationFees",
  model: "StripeApplicationFee",
  connectionType: connectionTypeOf("StripeApplicationFee", StripeApplicationFeeRef),
  prefixes: ["fee_"],
  filters: [{ arg: "created", kind: "range", column: "created" }],
});
