import { queryFromInfo } from "@pothos/plugin-prisma";
import { cursorToOffset, resolveArrayConnection } from "@pothos/plugin-relay";
import DataLoader from "dataloader";
import { type GraphQLResolveInfo, Kind, type SelectionNode } from "graphql";
import { quoteIdentifier as quote } from "../db/sql.ts";
import type { Context } from "./context.ts";
import { assertPageArgs } from "./pagination.ts";

type PageArgs = {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
};

type Row = Record<string, unknown> & { id: string; connectionId: string };

/** The children of one parent that a page needs: rows by their 0-based index, newest first. */
type Window = { rows: Map<number, Row>; total: number };

// resolveArrayConnection's sizes (the relay plugin's defaults: child lists pass no sizes of their own).
const DEFAULT_SIZE = 20;
const MAX_SIZE = 100;
/** Stands in for "no bound" in the window's SQL parameters (an index is never this large). */
const UNBOUNDED = 2_147_483_647;

/**
 * The part of a parent's newest-first children a page can read, by 0-based index: `start` ≤ index ≤
 * end, and, for `last`, index ≥ end − last, where end depends on how many children the parent has.
 * The same arithmetic as the relay plugin's offsetForArgs, with the child count left to SQL; the
 * extra index past the page is there for `hasNextPage`. Null for offsets it never produces (a negative
 * `after`): those pages are cut from every child in memory, as resolveArrayConnection always did.
 */
function windowOf(args: PageArgs) {
  const start = args.after ? cursorToOffset(args.after) + 1 : 0;
  const before = args.before ? cursorToOffset(args.before) : null;
  if (!Number.isSafeInteger(start) || start < 0 || start > UNBOUNDED - MAX_SIZE) return null;
  if (before !== null && !Number.isSafeInteger(before)) return null;
  const first = args.first ?? null;
  const last = args.last ?? null;
  // end = min(max(min(before, total), start), start + first): `first`, or the default size without
  // `first` and `last`, bounds it whatever the total.
  const limit = first !== null ? first : last === null ? DEFAULT_SIZE : null;
  return {
    start,
    before: before === null ? UNBOUNDED : Math.max(-UNBOUNDED, Math.min(before, UNBOUNDED)),
    end: limit === null ? UNBOUNDED : start + Math.min(limit, MAX_SIZE),
    // `last: 0` reads the child before the (empty) page too: the parent's total comes with it.
    last: last === null ? UNBOUNDED : Math.max(1, Math.min(last, MAX_SIZE)),
  };
}

/**
 * One statement for the children of every parent of a page: each parent's children ranked newest first
 * (created, then id, both descending, as the lists on StripeConnection), and only the ranks the page
 * reads come back, with the columns its selection needs.
 */
function windowStatement(
  table: string,
  foreignKey: string,
  columns: readonly string[],
  full: boolean,
  withTotal: boolean,
) {
  const t = quote(table);
  const partition = `PARTITION BY ${t}."connectionId", ${t}.${quote(foreignKey)}`;
  const selected = columns.map((column) => `${t}.${quote(column)}`).join(", ");
  const ranked =
    `SELECT ${selected}, ` +
    `(ROW_NUMBER() OVER (${partition} ORDER BY ${t}."created" DESC, ${t}."id" DESC) - 1)::int AS "__index", ` +
    `(COUNT(*) OVER (${partition}))::int AS "__total" ` +
    `FROM ${t} WHERE (${t}."connectionId", ${t}.${quote(foreignKey)}) IN ` +
    `(SELECT * FROM unnest($1::text[], $2::text[]))`;
  if (full) return `${ranked} ORDER BY "__index"`;
  // end = LEAST(GREATEST(LEAST(before, total), start), start + first)
  const end = `LEAST(GREATEST(LEAST($4::int, "__total"), $3::int), $5::int)`;
  // totalCount: each parent's first child too, which carries its total even when the page is past the end.
  const first = withTotal ? ` OR "__index" = 0` : "";
  return (
    `SELECT * FROM (${ranked}) AS "ranked" ` +
    `WHERE ("__index" >= $3::int AND "__index" <= ${end} AND "__index" >= ${end} - $6::int)${first} ` +
    `ORDER BY "__index"`
  );
}

/**
 * A stand-in for the parent's whole newest-first list that holds only the window: resolveArrayConnection
 * reads `length` and `slice`, so cursors, `hasNextPage` and the rest are exactly as over the whole list.
 * A slice outside the window would be a bug here, never a shorter page: it throws.
 */
function windowedList(window: Window): readonly Row[] {
  return {
    length: window.total,
    slice(from: number, to: number) {
      const rows: Row[] = [];
      const end = Math.min(to, window.total);
      for (let index = from; index < end; index++) {
        const row = window.rows.get(index);
        if (!row) throw new Error(`child list window misses index ${index} of ${window.total}`);
        rows.push(row);
      }
      return rows;
    },
  } as unknown as readonly Row[];
}

/**
 * One page of a parent's children, the children of every parent in the request loaded in one statement
 * per list (a DataLoader batches the parents of a page, so `payouts(first: 100) { balanceTransactions }`
 * costs one statement as `first: 10` does): at most first + 1 rows per parent, with only the columns the
 * selection needs. `foreignKey` is the child column holding the parent's Stripe id, in its connection.
 */
export async function childPage(
  ctx: Context,
  info: GraphQLResolveInfo,
  args: PageArgs,
  options: {
    /** `<parent type>.<field>` */
    name: string;
    /** The child's GraphQL type (a Prisma model of the same name, in select mode). */
    typeName: string;
    /** the parent's row id, `${connectionId}:${stripeId}` */
    parentId: string;
    foreignKey: string;
  },
) {
  assertPageArgs(args);
  const window = windowOf(args);
  // Also records what the child rows were loaded with, so their fields resolve without another query.
  const query = queryFromInfo({
    context: ctx,
    info,
    typeName: options.typeName,
    paths: [["edges", "node"]],
    select: { id: true, connectionId: true, [options.foreignKey]: true },
  }) as { select?: Record<string, unknown> };
  const columns = Object.entries(query.select ?? {}).map(([column, value]) => {
    if (value !== true) throw new Error(`${options.name} selects ${column}, which is not a column`);
    return column;
  });
  const withTotal = selectsField(info, "totalCount");
  const key = `${options.name}|${columns.join(",")}|${window ? Object.values(window).join(",") : "all"}|${withTotal}`;
  let loader = ctx.loaders.get(key) as DataLoader<string, Window> | undefined;
  if (!loader) {
    loader = new DataLoader<string, Window>(async (parentIds) => {
      const connectionIds: string[] = [];
      const stripeIds: string[] = [];
      for (const id of parentIds) {
        const separator = id.indexOf(":");
        connectionIds.push(id.slice(0, separator));
        stripeIds.push(id.slice(separator + 1));
      }
      const statement = windowStatement(
        options.typeName,
        options.foreignKey,
        columns,
        window === null,
        withTotal,
      );
      const params = window
        ? [connectionIds, stripeIds, window.start, window.before, window.end, window.last]
        : [connectionIds, stripeIds];
      const rows = await ctx.deps.db.prisma.$queryRawUnsafe<(Row & { __index: number; __total: number })[]>(
        statement,
        ...params,
      );
      const byParent = new Map<string, Window>();
      for (const { __index, __total, ...row } of rows) {
        const parent = `${row.connectionId}:${String(row[options.foreignKey])}`;
        let found = byParent.get(parent);
        if (!found) {
          found = { rows: new Map(), total: __total };
          byParent.set(parent, found);
        }
        found.rows.set(__index, row as Row);
      }
      // A parent without rows in the window has no children past the page's start: any total up to it
      // pages the same, and 0 is one.
      return parentIds.map((id) => byParent.get(id) ?? { rows: new Map(), total: 0 });
    });
    ctx.loaders.set(key, loader);
  }
  const loaded = await loader.load(options.parentId);
  const page = resolveArrayConnection(
    { args },
    // every child, for the offsets cut in memory (slice's negative indices included)
    window ? windowedList(loaded) : [...loaded.rows.values()],
  );
  // The window's total is exact once a parent has a row in it (its first child is, with totalCount).
  return page && { ...page, totalCount: loaded.total };
}

/** Whether the field's selection asks for `name` directly, or through a fragment. */
function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const visit = (selections: readonly SelectionNode[], seen: Set<string>): boolean =>
    selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === name;
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet.selections, seen);
      const fragment = info.fragments[selection.name.value];
      if (!fragment || seen.has(fragment.name.value)) return false;
      return visit(fragment.selectionSet.selections, new Set([...seen, fragment.name.value]));
    });
  return info.fieldNodes.some((node) => visit(node.selectionSet?.selections ?? [], new Set()));
}
