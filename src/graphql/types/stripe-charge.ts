import type { StripeRefund } from "../../generated/prisma/client.ts";
import { builder } from "../builder.ts";
import { groupBy, loadChildren, pageOf } from "../child-lists.ts";
import {
  addConnectionList,
  connectionGlobalId,
  connectionTypeOf,
  orgScopedFindUnique,
  toInt,
} from "../stripe-objects.ts";
import { StripeRefundConnection, StripeRefundRef } from "./stripe-refund.ts";

export const StripeChargeRef = builder.prismaNode("StripeCharge", {
  id: { field: "id" },
  nullable: true,
  findUnique: orgScopedFindUnique,
  fields: (t) => ({
    stripeId: t.exposeString("stripeId"),
    connectionId: t.id({ resolve: (o) => connectionGlobalId(o.connectionId) }),
    amount: t.int({ resolve: (o) => toInt(o.amount) }),
    amountCaptured: t.int({ resolve: (o) => toInt(o.amountCaptured) }),
    amountRefunded: t.int({ resolve: (o) => toInt(o.amountRefunded) }),
    currency: t.exposeString("currency"),
    status: t.exposeString("status"),
    paid: t.exposeBoolean("paid"),
    refunded: t.exposeBoolean("refunded"),
    disputed: t.exposeBoolean("disputed"),
    captured: t.exposeBoolean("captured"),
    description: t.exposeString("description", { nullable: true }),
    customerId: t.exposeString("customerId", { nullable: true }),
    paymentMethodType: t.exposeString("paymentMethodType", { nullable: true }),
    created: t.expose("created", { type: "DateTime" }),
    refunds: t.connection(
      {
        type: StripeRefundRef,
        select: { connectionId: true, stripeId: true },
        resolve: async (charge, args, ctx) =>
          pageOf(
            await loadChildren<StripeRefund>(ctx, "charge.refunds", charge.id, async (ids) => {
              const rows = await ctx.deps.db.prisma.stripeRefund.findMany({
                where: {
                  OR: ids.map((id) => ({ connectionId: id.split(":")[0]!, chargeId: id.split(":")[1]! })),
                },
                orderBy: [{ created: "desc" }, { id: "desc" }],
              });
              return groupBy(rows, (row) => `${row.connectionId}:${row.chargeId}`);
            }),
            args,
          ),
      },
      StripeRefundConnection as never,
    ),
    raw: t.expose("raw", { type: "JSON" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

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
