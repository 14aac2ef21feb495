import { resolveArrayConnection } from "@pothos/plugin-relay";
import DataLoader from "dataloader";
import type { Context } from "./context.ts";
import { assertPageArgs } from "./pagination.ts";

type PageArgs = {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
};

/**
 * Children of many parents in one query per request (a payout's balance transactions, a charge's refunds):
 * a DataLoader batches the parents of a page, so `payouts(first: 100) { balanceTransactions }` costs the
 * same number of SQL statements as `first: 10`.
 */
function loadChildren<Row>(
  ctx: Context,
  name: string,
  parentKey: string,
  loadMany: (parentKeys: readonly string[]) => Promise<Map<string, Row[]>>,
): Promise<Row[]> {
  let loader = ctx.loaders.get(name) as DataLoader<string, Row[]> | undefined;
  if (!loader) {
    loader = new DataLoader<string, Row[]>(async (keys) => {
      const byParent = await loadMany(keys);
      return keys.map((key) => byParent.get(key) ?? []);
    });
    ctx.loaders.set(name, loader);
  }
  return loader.load(parentKey);
}

/** Relay pagination over an already loaded, newest-first list. */
function pageOf<Row>(rows: Row[], args: PageArgs) {
  assertPageArgs(args);
  return resolveArrayConnection({ args }, rows);
}

function groupBy<Row>(rows: Row[], key: (row: Row) => string): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}

export const NEWEST_FIRST = [{ created: "desc" as const }, { id: "desc" as const }];

/**
 * One page of a parent's children, the children of every parent in the request loaded in one query:
 * `foreignKey` is the child column holding the parent's Stripe id, in the parent's connection.
 */
export async function childPage<Row extends { connectionId: string }>(
  ctx: Context,
  args: PageArgs,
  options: {
    name: string;
    /** the parent's row id, `${connectionId}:${stripeId}` */
    parentId: string;
    foreignKey: keyof Row & string;
    findMany: (anyOf: Record<string, string>[]) => Promise<Row[]>;
  },
) {
  const rows = await loadChildren<Row>(ctx, options.name, options.parentId, async (parentIds) => {
    const anyOf = parentIds.map((id) => {
      const [connectionId, stripeId] = id.split(":") as [string, string];
      return { connectionId, [options.foreignKey]: stripeId };
    });
    const children = await options.findMany(anyOf);
    return groupBy(children, (row) => `${row.connectionId}:${String(row[options.foreignKey])}`);
  });
  return pageOf(rows, args);
}
