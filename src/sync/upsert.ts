import type { PrismaClient } from "../db/client.ts";
import { type ResourceSpec, rowId, type StripeObject, unixToDate } from "../stripe/resources.ts";

export type VersionedObject = {
  object: StripeObject;
  /**
   * When this state of the object was true: an event's `created`, or the time a read from Stripe started.
   * A row is only overwritten by a strictly newer version, so replays and late deliveries change nothing.
   */
  versionAt: Date;
  /** Columns Stripe keeps off the object, e.g. the payout of a balance transaction. */
  extra?: Record<string, unknown>;
};

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Table name of a Prisma model delegate name ("stripePayout" → "StripePayout"). */
const tableOf = (resource: ResourceSpec) => resource.model[0]!.toUpperCase() + resource.model.slice(1);

/**
 * Writes objects of one resource in one statement: insert, or update where the stored version is older.
 * Returns the Stripe ids that were written; the others were already as new or newer.
 */
export async function upsertObjects(
  prisma: PrismaClient,
  resource: ResourceSpec,
  connection: { id: string; livemode: boolean | null },
  items: VersionedObject[],
  syncedAt: Date,
): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const rows = items.map(({ object, versionAt, extra }) => ({
    id: rowId(connection.id, object.id),
    connectionId: connection.id,
    stripeId: object.id,
    livemode: typeof object.livemode === "boolean" ? object.livemode : connection.livemode === true,
    created: unixToDate(object.created),
    raw: JSON.stringify(object),
    lastEventAt: versionAt,
    syncedAt,
    updatedAt: syncedAt,
    ...resource.columns(object),
    ...extra,
  }));
  const columns = Object.keys(rows[0]!);
  const params: unknown[] = [];
  const values = rows.map((row) => {
    const placeholders = columns.map((column) => {
      params.push((row as Record<string, unknown>)[column]);
      return column === "raw" ? `$${params.length}::jsonb` : `$${params.length}`;
    });
    return `(${placeholders.join(", ")})`;
  });
  const table = quote(tableOf(resource));
  const updates = columns
    .filter((column) => column !== "id")
    .map((column) => `${quote(column)} = EXCLUDED.${quote(column)}`);
  const sql =
    `INSERT INTO ${table} (${columns.map(quote).join(", ")}) VALUES ${values.join(", ")} ` +
    `ON CONFLICT ("id") DO UPDATE SET ${updates.join(", ")} ` +
    `WHERE ${table}."lastEventAt" IS NULL OR ${table}."lastEventAt" < EXCLUDED."lastEventAt" ` +
    `RETURNING "stripeId"`;
  const written = await prisma.$queryRawUnsafe<{ stripeId: string }[]>(sql, ...params);
  return new Set(written.map((row) => row.stripeId));
}
