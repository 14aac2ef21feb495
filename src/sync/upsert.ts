import { modelNameOf } from "../db/delegate.ts";
import { quoteIdentifier as quote } from "../db/sql.ts";
import type { Logger } from "../logger.ts";
import { readColumns } from "../stripe/columns.ts";
import { type ResourceSpec, rowId, type StripeObject, unixToDate } from "../stripe/resources.ts";

/** What upserts need of a Prisma client or of an interactive transaction. */
export type SqlRunner = {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
};

export type VersionedObject = {
  object: StripeObject;
  /**
   * When this state of the object was true: an event's `created`, or the second a read from Stripe
   * started (see stripe/api.ts readVersion). Ordinary writes only replace a strictly older version, so replays and
   * late deliveries change nothing; a version equal to the stored one is a tie the caller settles.
   */
  versionAt: Date;
  /** Columns Stripe keeps off the object, e.g. the payout of a balance transaction. */
  extra?: Record<string, unknown>;
};

export type UpsertOptions = {
  /**
   * "newer" (default) replaces only strictly older rows; "not-older" also replaces a row of the same
   * version: for an object just read from Stripe to settle a tie.
   */
  replace?: "newer" | "not-older";
  log?: Pick<Logger, "warn">;
};

/** What a write did to an object, as the change log names it. */
export type ObjectChange = "created" | "updated" | "deleted";

export type UpsertResult = {
  /** Stripe ids written; the others were already as new or newer. */
  written: Set<string>;
  /**
   * The written objects that changed, and how: new, different, or now deleted. A newer version that
   * says what the row already said (a re-read, a resync, a duplicate) is written (its version moves on)
   * but is no change.
   */
  changes: Map<string, ObjectChange>;
  /** Distinct objects offered (a page may list one twice), and those that could not be read. */
  objects: number;
  /** Objects that could not be read (no usable id, fields the columns cannot take): logged, not stored. */
  skipped: number;
};

/** Table name of a Prisma model delegate name ("stripePayout" → "StripePayout"). */

type Row = Record<string, unknown>;

const YEAR_1 = Date.parse("0001-01-01T00:00:00Z");
const YEAR_10000 = Date.parse("+010000-01-01T00:00:00Z");

/**
 * A date a row can hold: years 1 to 9999 (a Stripe timestamp of 10^20 is no JavaScript date, and one before
 * year 1 is none PostgreSQL stores). Anything else makes the object unreadable, like an amount past 2^53.
 */
export const isStorableDate = (date: Date) => date.getTime() >= YEAR_1 && date.getTime() < YEAR_10000;

/** Columns that change with every write, whatever the object says. */
const BOOKKEEPING = new Set(["id", "connectionId", "stripeId", "lastEventAt", "syncedAt", "updatedAt"]);

function toRow(
  resource: ResourceSpec,
  connection: { id: string; livemode: boolean | null },
  { object, versionAt, extra }: VersionedObject,
  syncedAt: Date,
): Row | null {
  if (typeof object?.id !== "string" || object.id.length === 0 || object.id.length > 255) return null;
  const columns = readColumns(resource.columns, object);
  for (const value of Object.values(columns)) {
    // Amounts past 2^53 − 1 were already rounded by JSON.parse: storing them would store a wrong number.
    if (
      typeof value === "bigint" &&
      (value > BigInt(Number.MAX_SAFE_INTEGER) || -value > BigInt(Number.MAX_SAFE_INTEGER))
    )
      return null;
    if (value instanceof Date && !isStorableDate(value)) return null;
  }
  const created = unixToDate(object.created);
  if (!isStorableDate(created)) return null;
  return {
    id: rowId(connection.id, object.id),
    connectionId: connection.id,
    stripeId: object.id,
    livemode: typeof object.livemode === "boolean" ? object.livemode : connection.livemode === true,
    created,
    raw: JSON.stringify(object),
    lastEventAt: versionAt,
    syncedAt,
    updatedAt: syncedAt,
    ...columns,
    ...extra,
  };
}

/**
 * Writes objects of one resource: inserts the new ones and rewrites those whose stored version is older
 * and says something else, in one statement; a second one, only when needed, moves the version of those
 * that are newer but say the same (no change). A page may hold the same object twice (Stripe's lists
 * shift while they are read): the newest copy wins.
 */
export async function upsertObjects(
  sql: SqlRunner,
  resource: ResourceSpec,
  connection: { id: string; livemode: boolean | null },
  items: VersionedObject[],
  syncedAt: Date,
  options: UpsertOptions = {},
): Promise<UpsertResult> {
  const byId = new Map<string, Row>();
  let skipped = 0;
  for (const item of items) {
    let row: Row | null;
    try {
      row = toRow(resource, connection, item, syncedAt);
    } catch {
      row = null;
    }
    if (!row) {
      skipped += 1;
      options.log?.warn(
        { connectionId: connection.id, resource: resource.key, stripeId: String(item.object?.id ?? "") },
        "skipped a Stripe object the gateway cannot read",
      );
      continue;
    }
    const previous = byId.get(row.stripeId as string);
    if (!previous || (previous.lastEventAt as Date) <= (row.lastEventAt as Date))
      byId.set(row.stripeId as string, row);
  }
  const rows = [...byId.values()];
  if (rows.length === 0) return { written: new Set(), changes: new Map(), objects: 0, skipped };
  // Every row has the same columns except `extra`: take their union, missing ones as NULL.
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const params: unknown[] = [];
  const values = rows.map((row) => {
    const placeholders = columns.map((column) => {
      params.push(row[column] ?? null);
      return column === "raw" ? `$${params.length}::jsonb` : `$${params.length}`;
    });
    return `(${placeholders.join(", ")})`;
  });
  const table = quote(modelNameOf(resource.model));
  const updates = columns
    .filter((column) => column !== "id")
    // A deletion is final at Stripe: no later copy of the object undoes it.
    .map((column) =>
      column === "deleted"
        ? `"deleted" = ${table}."deleted" OR EXCLUDED."deleted"`
        : `${quote(column)} = EXCLUDED.${quote(column)}`,
    );
  // Only a row that says something new is rewritten (and counts as a change): the same content again,
  // from a duplicate, a re-read or a resync, is not.
  const compared = columns.filter((column) => !BOOKKEEPING.has(column));
  const after = (column: string) =>
    column === "deleted" ? `(${table}."deleted" OR EXCLUDED."deleted")` : `EXCLUDED.${quote(column)}`;
  const differs =
    `ROW(${compared.map((c) => `${table}.${quote(c)}`).join(", ")}) IS DISTINCT FROM ` +
    `ROW(${compared.map(after).join(", ")})`;
  const newEnough = `${table}."lastEventAt" IS NULL OR ${table}."lastEventAt" ${options.replace === "not-older" ? "<=" : "<"} EXCLUDED."lastEventAt"`;
  const changedRows = await sql.$queryRawUnsafe<{ stripeId: string; created: boolean }[]>(
    `INSERT INTO ${table} (${columns.map(quote).join(", ")}) VALUES ${values.join(", ")} ` +
      `ON CONFLICT ("id") DO UPDATE SET ${updates.join(", ")} WHERE (${newEnough}) AND ${differs} ` +
      `RETURNING "stripeId", (xmax = 0) AS "created"`,
    ...params,
  );
  const changes = new Map<string, ObjectChange>();
  for (const { stripeId, created } of changedRows) {
    const said = byId.get(stripeId)!;
    changes.set(stripeId, said.deleted === true ? "deleted" : created ? "created" : "updated");
  }
  // The others may still be newer versions of what is stored: their version moves on (so that an older
  // event arriving late cannot undo them), and nothing else of the row is written.
  const same = rows.filter((row) => !changes.has(row.stripeId as string));
  const versioned =
    same.length === 0
      ? []
      : await sql.$queryRawUnsafe<{ stripeId: string }[]>(
          `UPDATE ${table} SET "lastEventAt" = "v"."lastEventAt", "syncedAt" = $${same.length * 2 + 1} ` +
            `FROM (VALUES ${same.map((_, i) => `($${i * 2 + 1}::text, $${i * 2 + 2}::timestamp(3))`).join(", ")}) "v" ("id", "lastEventAt") ` +
            `WHERE ${table}."id" = "v"."id" AND (${table}."lastEventAt" IS NULL OR ${table}."lastEventAt" < "v"."lastEventAt") ` +
            `RETURNING ${table}."stripeId"`,
          ...same.flatMap((row) => [row.id, row.lastEventAt]),
          syncedAt,
        );
  const written = new Set([...changes.keys(), ...versioned.map((row) => row.stripeId)]);
  return { written, changes, objects: rows.length, skipped };
}

/** Marks one object deleted whatever its stored version (a deletion is final). True when it changed. */
export async function markObjectDeleted(
  sql: SqlRunner,
  resource: ResourceSpec,
  connectionId: string,
  stripeId: string,
  at: Date,
): Promise<boolean> {
  const table = quote(modelNameOf(resource.model));
  const changed = await sql.$queryRawUnsafe<unknown[]>(
    `UPDATE ${table} SET "deleted" = true, "updatedAt" = $2 WHERE "id" = $1 AND "deleted" = false RETURNING "id"`,
    rowId(connectionId, stripeId),
    at,
  );
  return changed.length > 0;
}
