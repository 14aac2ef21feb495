import {
  addConnectionList,
  connectionGlobalId,
  connectionTypeOf,
  syncedNode,
  toSafeInt,
} from "../stripe-objects.ts";

export const StripeDisputeRef = syncedNode("StripeDispute", (t) => ({
  connectionId: t.id({ resolve: (o) => connectionGlobalId(o.connectionId) }),
  amount: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amount) }),
  currency: t.exposeString("currency"),
  status: t.exposeString("status"),
  reason: t.exposeString("reason"),
  chargeId: t.exposeString("chargeId", { nullable: true }),
  evidenceDueBy: t.expose("evidenceDueBy", { type: "DateTime", nullable: true }),
  updatedAt: t.expose("updatedAt", { type: "DateTime" }),
}));

addConnectionList({
  field: "disputes",
  model: "StripeDispute",
  connectionType: connectionTypeOf("StripeDispute", StripeDisputeRef),
  prefixes: ["dp_", "du_"],
  filters: [
    { arg: "status", kind: "values", column: "status" },
    { arg: "created", kind: "range", column: "created" },
  ],
});
