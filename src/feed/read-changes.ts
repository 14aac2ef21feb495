import type { Database } from "../db/client.ts";
import type { Change } from "./change-log.ts";

/** Which changes a reader wants: of one org, of some of its connections, of some types. */
export type ChangeFilter = {
  orgId: string;
  /** Row ids of the connections; null: every connection of the org (and changes of none). */
  connectionIds: readonly string[] | null;
  /** Exact types, `payout.*` (one object's changes) or `*`; null or empty: every type. */
  types: readonly string[] | null;
};

/** A sequence as clients send it: a decimal integer string of at most 19 digits, or null when not one. */
export function parseSequence(value: string): bigint | null {
  if (!/^\d{1,19}$/.test(value)) return null;
  const sequence = BigInt(value);
  return sequence <= 9_223_372_036_854_775_807n ? sequence : null;
}

/** Whether a change is one the filter selects (the live half of what `readChanges` selects in SQL). */
export function changeMatches(filter: ChangeFilter, change: Change): boolean {
  if (change.orgId !== filter.orgId) return false;
  if (filter.connectionIds && (!change.connectionId || !filter.connectionIds.includes(change.connectionId)))
    return false;
  if (!filter.types || filter.types.length === 0) return true;
  return filter.types.some(
    (pattern) =>
      pattern === "*" ||
      pattern === change.type ||
      (pattern.endsWith(".*") && change.type.startsWith(pattern.slice(0, -1))),
  );
}

export type ChangePage =
  | { kind: "page"; changes: Change[]; lastSequence: bigint }
  /** `after` is below what retention kept: some changes after it are gone. */
  | { kind: "expired" }
  /** `after` is past the org's newest change: not a sequence of this org (or of this database). */
  | { kind: "ahead" };

type Row = Omit<Change, "sequence" | "orgId"> & {
  sequence: bigint | null;
  lastSequence: bigint;
  prunedThrough: bigint;
};

/**
 * The filter's changes after `after` (and up to `upTo` when given), oldest first, at most `limit`. One
 * statement, so that what retention had pruned and what the page holds are of the same snapshot: a page
 * that says nothing was pruned after `after` is complete. The log is read by its (org, sequence) key.
 */
export async function readChanges(
  db: Pick<Database, "prisma">,
  filter: ChangeFilter,
  range: { after: bigint; upTo?: bigint; limit: number },
): Promise<ChangePage> {
  const params: unknown[] = [filter.orgId, range.after, range.limit];
  const conditions = [`s."orgId" = c."orgId"`, `s."sequence" > $2`];
  if (range.upTo !== undefined) {
    params.push(range.upTo);
    conditions.push(`s."sequence" <= $${params.length}`);
  }
  if (filter.connectionIds) {
    const first = params.length + 1;
    params.push(...filter.connectionIds);
    conditions.push(
      filter.connectionIds.length === 0
        ? "false"
        : `s."connectionId" IN (${filter.connectionIds.map((_, i) => `$${first + i}`).join(", ")})`,
    );
  }
  const types = filter.types ?? [];
  if (types.length > 0 && !types.includes("*")) {
    const alternatives = types.map((pattern) => {
      params.push(pattern.endsWith(".*") ? pattern.slice(0, -1) : pattern);
      return pattern.endsWith(".*")
        ? `starts_with(s."type", $${params.length})`
        : `s."type" = $${params.length}`;
    });
    conditions.push(`(${alternatives.join(" OR ")})`);
  }
  const rows = await db.prisma.$queryRawUnsafe<Row[]>(
    `SELECT c."lastSequence", c."prunedThrough", s."sequence", s."connectionId", s."type", s."objectId", ` +
      `s."stripeEventId", s."occurredAt" FROM (SELECT $1::text AS "orgId") o ` +
      `LEFT JOIN "ChangeCounter" c ON c."orgId" = o."orgId" ` +
      `LEFT JOIN LATERAL (SELECT * FROM "StripeChange" s WHERE ${conditions.join(" AND ")} ` +
      `ORDER BY s."sequence" LIMIT $3) s ON true ORDER BY s."sequence"`,
    ...params,
  );
  const lastSequence = BigInt(rows[0]?.lastSequence ?? 0);
  const prunedThrough = BigInt(rows[0]?.prunedThrough ?? 0);
  if (range.after < prunedThrough) return { kind: "expired" };
  if (range.after > lastSequence) return { kind: "ahead" };
  const changes = rows.flatMap((row) =>
    row.sequence === null
      ? []
      : [
          {
            orgId: filter.orgId,
            sequence: BigInt(row.sequence),
            connectionId: row.connectionId,
            type: row.type,
            objectId: row.objectId,
            stripeEventId: row.stripeEventId,
            occurredAt: new Date(row.occurredAt),
          },
        ],
  );
  return { kind: "page", changes, lastSequence };
}

/** The org's oldest sequence a reader can still resume after (what retention pruned through). */
export async function oldestResumable(db: Pick<Database, "prisma">, orgId: string): Promise<bigint> {
  const counter = await db.prisma.changeCounter.findUnique({
    where: { orgId },
    select: { prunedThrough: true },
  });
  return counter?.prunedThrough ?? 0n;
}
