import { addConnectionList, connectionTypeOf, syncedNode, toInt } from "../stripe-objects.ts";

export const StripeApplicationFeeRef = syncedNode("StripeApplicationFee", (t) => ({
  amount: t.int({ resolve: (o) => toInt(o.amount) }),
  amountRefunded: t.int({ resolve: (o) => toInt(o.amountRefunded) }),
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
