// What every synced Stripe object type shares in GraphQL: org-scoped node lookup, amounts, cursor checks
// and its list on StripeConnection (Relay pagination, newest first, declarative filters).

import type { ObjectRef } from "@pothos/core";
import { parsePrismaCursor } from "@pothos/plugin-prisma";
import { modelNameOf } from "../db/delegate.ts";
import type PrismaTypes from "../generated/pothos-prisma-types.ts";
import type { Resource } from "../stripe/resources.ts";
import { builder } from "./builder.ts";
import type { Context } from "./context.ts";
import { amountOutOfRange, badInput } from "./errors.ts";
import { listCount, listPage, type NamedListFilter, type PageQuery } from "./list-page.ts";
import { assertPageArgs, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./pagination.ts";
import { readableConnections } from "./scope.ts";
import { DateTimeRange } from "./types/scalars.ts";

/** GraphQL (and Prisma model) name of each synced object type: the registry's, and Stripe's events. */
export type SyncedModel = Capitalize<Resource["model"]> | "StripeEvent";

export const typeNameOf = (resource: { model: string }) => modelNameOf(resource.model as Resource["model"]);

export type SchemaTypesOf = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type Range = { gte?: Date | null; lte?: Date | null };
type FindMany = (args: object) => Promise<unknown[]>;

const delegateName = (model: SyncedModel) => `${model[0]!.toLowerCase()}${model.slice(1)}` as const;

/** node(id) and every fallback lookup only find rows of the caller's own org. */
export function orgScopedFindUnique(id: string, ctx: Context) {
  return { id, connection: readableConnections(ctx) };
}

export { connectionGlobalId } from "../public-ids.ts";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An amount column (BigInt) as the exact number GraphQL's SafeInt sends. Beyond ±(2^53 − 1) a JSON number
 * cannot hold it exactly, so the field errors (a GraphQLError: shown as is, not masked) rather than
 * answer a rounded number.
 */
export function toSafeInt(value: bigint | number): number {
  const exact =
    typeof value === "bigint" ? value >= -MAX_SAFE && value <= MAX_SAFE : Number.isSafeInteger(value);
  if (!exact) {
    throw amountOutOfRange(
      `This amount (${String(value)}) is beyond ±(2^53 − 1), past what a JSON number holds exactly; it is not sent rounded.`,
    );
  }
  return Number(value);
}

function rangeWhere(name: string, range: Range): { gte?: Date; lte?: Date } {
  if (range.gte && range.lte && range.gte > range.lte) {
    throw badInput(
      `\`${name}\`: gte (${range.gte.toISOString()}) is after lte (${range.lte.toISOString()}).`,
    );
  }
  return { ...(range.gte ? { gte: range.gte } : {}), ...(range.lte ? { lte: range.lte } : {}) };
}

function filterWhere(filters: readonly NamedListFilter[], args: Record<string, unknown>) {
  const where: Record<string, unknown> = {};
  for (const filter of filters) {
    const value = args[filter.arg];
    if (value == null) continue;
    where[filter.column] =
      filter.kind === "values"
        ? { in: value as string[] }
        : filter.kind === "range"
          ? rangeWhere(filter.arg, value as Range)
          : value;
  }
  return where;
}

/**
 * A cursor must come from the same list: our row ids are `${connectionId}:${stripeId}`, so a cursor of
 * another connection, or of another resource (by its Stripe id prefix), is refused before any query.
 */
function checkCursor(cursor: string | null | undefined, scope: string, prefixes: readonly string[]) {
  if (cursor == null) return;
  const id = String(parsePrismaCursor(cursor));
  const stripeId = id.startsWith(`${scope}:`) ? id.slice(scope.length + 1) : null;
  if (stripeId === null || !prefixes.some((prefix) => stripeId.startsWith(prefix))) {
    throw badInput("This cursor belongs to another list: use a cursor returned by this field.");
  }
}

/**
 * A list's total as its resolver left it on the connection: a function for the lists on StripeConnection
 * (Pothos' prismaConnection, which calls it only when totalCount is selected), a number for child lists.
 */
type WithTotal = { totalCount?: number | (() => number | Promise<number>) };

/** The Relay connection type of a model, shared by its list on StripeConnection and nested lists. */
export function connectionTypeOf<T extends object>(model: SyncedModel, node: ObjectRef<SchemaTypesOf, T>) {
  return builder.connectionObject(
    {
      type: node,
      name: `${model}Connection`,
      fields: (t) => ({
        totalCount: t.int({
          description: "Every item of the list with its filters, whatever the page",
          // Pothos reads no rows for a page that selects only this (and __typename)
          extensions: { pothosPrismaTotalCount: true },
          resolve: (connection) => {
            const total = (connection as WithTotal).totalCount;
            return typeof total === "function" ? total() : (total ?? 0);
          },
        }),
      }),
    },
    { name: `${model}Edge` },
  );
}

/** Adds `StripeConnection.<field>`: the synced objects of one model, newest first. */
export function addConnectionList(options: {
  field: string;
  model: SyncedModel;
  connectionType: ReturnType<typeof connectionTypeOf>;
  /** Stripe id prefixes of the model, for cursor checks */
  prefixes: readonly string[];
  filters: readonly NamedListFilter[];
  /** The prefix of row ids in this list (default: the connection's id). */
  cursorScope?: (connectionId: string, ctx: Context) => string;
}) {
  const { field, model, prefixes, filters } = options;
  builder.prismaObjectField("StripeConnection", field, (t) =>
    t.prismaConnection(
      {
        type: model as keyof PrismaTypes & SyncedModel,
        cursor: "id",
        defaultSize: DEFAULT_PAGE_SIZE,
        maxSize: MAX_PAGE_SIZE,
        args: {
          ...Object.fromEntries(
            filters.map((filter) => [
              filter.arg,
              filter.kind === "values"
                ? t.arg.stringList({ required: false })
                : filter.kind === "flag"
                  ? t.arg.boolean({ required: false })
                  : filter.kind === "equals"
                    ? t.arg.string({ required: false })
                    : t.arg({ type: DateTimeRange, required: false }),
            ]),
          ),
        },
        resolve: async (query, connection, args, ctx) => {
          assertPageArgs(args);
          checkCursor(
            args.after ?? args.before,
            options.cursorScope?.(connection.id, ctx) ?? connection.id,
            prefixes,
          );
          // Checks the ranges too, before any statement.
          const where = filterWhere(filters, args as Record<string, unknown>);
          const page = await listPage(ctx.deps.db.prisma, {
            table: model,
            connectionId: connection.id,
            filters,
            args: args as Record<string, unknown>,
            query: query as PageQuery,
          });
          if (page) return page as never;
          const delegate = (ctx.deps.db.prisma as unknown as Record<string, { findMany: FindMany }>)[
            delegateName(model)
          ]!;
          return delegate.findMany({
            ...query,
            where: { connectionId: connection.id, ...where },
            orderBy: [{ created: "desc" }, { id: "desc" }],
          }) as never;
        },
        totalCount: (connection, args, ctx) => {
          // Refuses a reversed range before the count, as the page does.
          filterWhere(filters, args as Record<string, unknown>);
          return listCount(ctx.deps.db.prisma, {
            table: model,
            connectionId: connection.id,
            filters,
            args: args as Record<string, unknown>,
          });
        },
      },
      options.connectionType as never,
    ),
  );
}
