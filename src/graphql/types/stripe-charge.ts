import type { StripeRefund } from "../../generated/prisma/client.ts";
import { childPage, NEWEST_FIRST } from "../child-lists.ts";
import {
  addConnectionList,
  connectionGlobalId,
  connectionTypeOf,
  syncedNode,
  toSafeInt,
} from "../stripe-objects.ts";
import { StripeRefundConnection, StripeRefundRef } from "./stripe-refund.ts";

export const StripeChargeRef = syncedNode("StripeCharge", (t) => ({
  connectionId: t.id({ resolve: (o) => connectionGlobalId(o.connectionId) }),
  amount: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amount) }),
  amountCaptured: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amountCaptured) }),
  amountRefunded: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amountRefunded) }),
  currency: t.exposeString("currency"),
  status: t.exposeString("status"),
  paid: t.exposeBoolean("paid"),
  refunded: t.exposeBoolean("refunded"),
  disputed: t.exposeBoolean("disputed"),
  captured: t.exposeBoolean("captured"),
  description: t.exposeString("description", { nullable: true }),
  customerId: t.exposeString("customerId", { nullable: true }),
  paymentMethodType: t.exposeString("paymentMethodType", { nullable: true }),
  refunds: t.connection(
    {
      type: StripeRefundRef,
      resolve: (charge, args, ctx) =>
        childPage<StripeRefund>(ctx, args, {
          name: "charge.refunds",
          parentId: charge.id,
          foreignKey: "chargeId",
          findMany: (anyOf) =>
            ctx.deps.db.prisma.stripeRefund.findMany({ where: { OR: anyOf }, orderBy: NEWEST_FIRST }),
        }),
    },
    StripeRefundConnection as never,
  ),
  updatedAt: t.expose("updatedAt", { type: "DateTime" }),
}));

addConnectionList({
  field: "charges",
  model: "StripeCharge",
  connectionType: connectionTypeOf("StripeCharge", StripeChargeRef),
  prefixes: ["ch_", "py_"],
  filters: [
    { arg: "status", kind: "values", column: "status" },
    { arg: "created", kind: "range", column: "created" },
  ],
});
