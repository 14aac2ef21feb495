import type { StripeBalanceTransaction } from "../../generated/prisma/client.ts";
import { childPage, NEWEST_FIRST } from "../child-lists.ts";
import {
  addConnectionList,
  connectionGlobalId,
  connectionTypeOf,
  syncedNode,
  toSafeInt,
} from "../stripe-objects.ts";
import {
  StripeBalanceTransactionConnection,
  StripeBalanceTransactionRef,
} from "./stripe-balance-transaction.ts";

export const StripePayoutRef = syncedNode("StripePayout", (t) => ({
  connectionId: t.id({ resolve: (o) => connectionGlobalId(o.connectionId) }),
  amount: t.field({ type: "SafeInt", resolve: (o) => toSafeInt(o.amount) }),
  currency: t.exposeString("currency"),
  status: t.exposeString("status"),
  arrivalDate: t.expose("arrivalDate", { type: "DateTime" }),
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
      resolve: (payout, args, ctx) =>
        childPage<StripeBalanceTransaction>(ctx, args, {
          name: "payout.balanceTransactions",
          parentId: payout.id,
          foreignKey: "payoutId",
          findMany: (anyOf) =>
            ctx.deps.db.prisma.stripeBalanceTransaction.findMany({
              where: { OR: anyOf },
              orderBy: NEWEST_FIRST,
            }),
        }),
    },
    StripeBalanceTransactionConnection as never,
  ),
  updatedAt: t.expose("updatedAt", { type: "DateTime" }),
}));

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
