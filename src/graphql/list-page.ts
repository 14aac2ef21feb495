// A page of a list on StripeConnection in one SQL statement of the selected columns: what Prisma's
// findMany would read for the query Pothos built (cursor, take, skip), without its per-query compile
// and row mapping, which were most of a page's cost after the database itself.
import { quoteIdentifier as quote } from "../db/sql.ts";
import type { ListFilter } from "../stripe/resources.ts";

/** A filter argument of a list, by its argument name. */
export type NamedListFilter = ListFilter & { arg: string };

/** What Pothos' prismaConnection hands its resolver: the page's cursor and size, the selected columns. */
export type PageQuery = {
  select?: Record<string, unknown>;
  take: number;
  skip: number;
  cursor?: { id: string };
};

/** A filter's value as the list's arguments give it (a range already checked). */
export type FilterValues = Record<string, unknown>;

type SqlRunner = { $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> };

/** The SQL condition of one filter, its value being parameter `$n`. */
const CONDITION: Record<NamedListFilter["kind"], (column: string, n: number) => string> = {
  values: (column, n) => `${column} = ANY($${n}::text[])`,
  flag: (column, n) => `${column} = $${n}::boolean`,
  equals: (column, n) => `${column} = $${n}::text`,
  // a range is two conditions, see below
  range: () => "",
};

/** The WHERE conditions of a list (its connection, its filters) and their parameters `$1`… */
function listConditions(options: {
  table: string;
  connectionId: string;
  filters: readonly NamedListFilter[];
  args: FilterValues;
}) {
  const t = quote(options.table);
  const params: unknown[] = [options.connectionId];
  const where = [`${t}."connectionId" = $1`];
  for (const filter of options.filters) {
    const value = options.args[filter.arg];
    if (value == null) continue;
    const column = `${t}.${quote(filter.column)}`;
    if (filter.kind === "range") {
      const range = value as { gte?: Date | null; lte?: Date | null };
      for (const [bound, operator] of [
        ["gte", ">="],
        ["lte", "<="],
      ] as const) {
        const date = range[bound];
        if (!date) continue;
        params.push(date.toISOString());
        // timestamps are stored in UTC without a zone: the ISO string's Z is read as UTC
        where.push(`${column} ${operator} $${params.length}::timestamp(3)`);
      }
      continue;
    }
    params.push(value);
    where.push(CONDITION[filter.kind](column, params.length));
  }
  return { t, params, where };
}

/** How many rows the list has with its filters, whatever the page: one statement, only when asked. */
export async function listCount(
  sql: SqlRunner,
  options: { table: string; connectionId: string; filters: readonly NamedListFilter[]; args: FilterValues },
): Promise<number> {
  const { t, params, where } = listConditions(options);
  const rows = await sql.$queryRawUnsafe<{ count: number }[]>(
    `SELECT COUNT(*)::int AS "count" FROM ${t} WHERE ${where.join(" AND ")}`,
    ...params,
  );
  return rows[0]?.count ?? 0;
}

/**
 * The page's rows, newest first (created, then id, both descending), as Prisma reads them for
 * `findMany({ ...query, where, orderBy })`: a cursor row is where the page starts (forward) or ends
 * (backward, `take` < 0) and is itself left out by `skip: 1`; a cursor whose row is gone gives no rows.
 * Null when the selection is not plain columns (the caller asks Prisma then).
 */
export async function listPage(
  sql: SqlRunner,
  options: {
    table: string;
    connectionId: string;
    filters: readonly NamedListFilter[];
    args: FilterValues;
    query: PageQuery;
  },
): Promise<Record<string, unknown>[] | null> {
  const { query } = options;
  const columns = Object.entries(query.select ?? {});
  if (columns.length === 0 || columns.some(([, value]) => value !== true)) return null;
  if (query.skip !== (query.cursor ? 1 : 0)) return null;

  const { t, params, where } = listConditions(options);
  const backward = query.take < 0;
  if (query.cursor) {
    params.push(query.cursor.id);
    // Forward, rows after the cursor's in the newest-first order; backward, the rows before it.
    where.push(
      `(${t}."created", ${t}."id") ${backward ? ">" : "<"} ` +
        `(SELECT "created", "id" FROM ${t} WHERE "id" = $${params.length})`,
    );
  }
  const direction = backward ? "ASC" : "DESC";
  params.push(Math.abs(query.take));
  const statement =
    `SELECT ${columns.map(([column]) => `${t}.${quote(column)}`).join(", ")} FROM ${t} ` +
    `WHERE ${where.join(" AND ")} ` +
    `ORDER BY ${t}."created" ${direction}, ${t}."id" ${direction} LIMIT $${params.length}`;
  const rows = await sql.$queryRawUnsafe<Record<string, unknown>[]>(statement, ...params);
  return backward ? rows.reverse() : rows;
}
