import type { StripeBalanceTransaction } from "../../generated/prisma/client.ts";
import { builder } from "../builder.ts";
import { groupBy, loadChildren, pageOf } from "../child-lists.ts";
import {
  addConnectionList,
  connectionGlobalId,
  connectionTypeOf,
  orgScopedFindUnique,
  toInt,
} from "../stripe-objects.ts";
import {
  StripeBalanceTransactionConnection,
  StripeBalanceTransactionRef,
} from "./stripe-balance-transaction.ts";

export const StripePayoutRef = builder.prismaNode("StripePayout", {
  id: { field: "id" },
  nullable: true,
  findUnique: orgScopedFindUnique,
  fields: (t) => ({
    stripeId: t.exposeString("stripeId"),
    connectionId: t.id({ resolve: (o) => connectionGlobalId(o.connectionId) }),
    amount: t.int({ resolve: (o) => toInt(o.amount) }),
    currency: t.exposeString("currency"),
    status: t.exposeString("status"),
    arrivalDate: t.expose("arrivalDate", { type: "DateTime" }),
    created: t.expose("created", { type: "DateTime" }),
    method: t.exposeString("method", { nullable: true }),
    type: t.exposeString("type", { nullable: true }),
    automatic: t.exposeBoolean("automatic", { nullable: true }),
    description: t.exposeString("description", { nullable: true }),
    failureCode: t.exposeString("failureCode", { nullable: true }),
    failureMessage: t.exposeString("failureMessage", { nullable: true }),
    reconciliationStatus: t.exposeString("reconciliationStatus", { nullable: true }),
    balanceTransactions: t.connection(
      {
        type: StripeBalanceTransactionRef,
        description: "The balance transactions paid out in this payout (once Stripe has reconciled it).",
        select: { connectionId: true, stripeId: true },
        resolve: async (payout, args, ctx) =>
          pageOf(
            await loadChildren<StripeBalanceTransaction>(
              ctx,
              "payout.balanceTransactions",
              payout.id,
              async (ids) => {
                const rows = await ctx.deps.db.prisma.stripeBalanceTransaction.findMany({
                  where: {
                    OR: ids.map((id) => ({ connectionId: id.split(":")[0]!, payoutId: id.split(":")[1]! })),
                  },
                  orderBy: [{ created: "desc" }, { id: "desc" }],
                });
                return groupBy(rows, (row) => `${row.connectionId}:${row.payoutId}`);
              },
            ),
            args,
          ),
      },
      StripeBalanceTransactionConnection as never,
    ),
    raw: t.expose("raw", { type: "JSON" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

addConnectionList({
  field: "payouts",
  model: "StripePayout",
  connectionType: connectionTypeOf("StripePayout", StripePayoutRef),
  prefixes: ["po_"],
  filters: [
    { arg: "status", kind: "values", column: "status" },
    { arg: "arrivalDate", kind: "range", column: "arrivalDate" },
    { arg: "created", kind: "range", column: "created" },
  ],
});
