import { builder } from "../builder.ts";
import { addConnectionList, connectionTypeOf, orgScopedFindUnique, toInt } from "../stripe-objects.ts";

export const StripeApplicationFeeRef = builder.prismaNode("StripeApplicationFee", {
  id: { field: "id" },
  nullable: true,
  findUnique: orgScopedFindUnique,
  fields: (t) => ({
    stripeId: t.exposeString("stripeId"),
    amount: t.int({ resolve: (o) => toInt(o.amount) }),
    amountRefunded: t.int({ resolve: (o) => toInt(o.amountRefunded) }),
    currency: t.exposeString("currency"),
    chargeId: t.exposeString("chargeId", { nullable: true }),
    created: t.expose("created", { type: "DateTime" }),
    raw: t.expose("raw", { type: "JSON" }),
  }),
});

addConnectionList({
  field: "applicationFees",
  model: "StripeApplicationFee",
  connectionType: connectionTypeOf("StripeApplicationFee", StripeApplicationFeeRef),
  prefixes: ["fee_"],
  filters: [{ arg: "created", kind: "range", column: "created" }],
});
