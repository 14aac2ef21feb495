import {
  addConnectionList,
  connectionGlobalId,
  connectionTypeOf,
  syncedNode,
  toSafeInt,
} from "../stripe-objects.ts";

export const StripeRefundRef = syncedNode("StripeRefund", (t) => ({
  connectionId: t.id({ resolve: (o) => connectionGlobalId(o.connectionId) }),
  amount: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amount) }),
  currency: t.exposeString("currency"),
  status: t.exposeString("status", { nullable: true }),
  chargeId: t.exposeString("chargeId", { nullable: true }),
  reason: t.exposeString("reason", { nullable: true }),
  updatedAt: t.expose("updatedAt", { type: "DateTime" }),
}));

export const StripeRefundConnection = connectionTypeOf("StripeRefund", StripeRefundRef);

addConnectionList({
  field: "refunds",
  model: "StripeRefund",
  connectionType: StripeRefundConnection,
  prefixes: ["re_", "pyr_"],
  filters: [{ arg: "created", kind: "range", column: "created" }],
});
