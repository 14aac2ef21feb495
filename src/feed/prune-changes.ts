import type { Clock } from "../clock.ts";
import type { Database } from "../db/client.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Drops each org's changes older than the retention window. Only a prefix of an org's log goes — every
 * change up to the newest one that is old enough — and the counter remembers where it ends, so an
 * `after` below it is refused (CHANGE_CURSOR_EXPIRED) instead of silently skipping what was pruned.
 * Returns how many changes were dropped.
 */
export async function pruneChanges(
  deps: { db: Pick<Database, "prisma">; clock: Clock },
  retentionDays: number,
): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - retentionDays * DAY_MS);
  const ends = await deps.db.prisma.$queryRawUnsafe<{ orgId: string; through: bigint }[]>(
    `SELECT "orgId", max("sequence") AS "through" FROM "StripeChange" WHERE "occurredAt" < $1 GROUP BY "orgId"`,
    cutoff,
  );
  let dropped = 0;
  for (const { orgId, through } of ends) {
    // The counter first, then the rows: a reader that sees the rows gone also sees where they ended.
    dropped += await deps.db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(
        `UPDATE "ChangeCounter" SET "prunedThrough" = GREATEST("prunedThrough", $2) WHERE "orgId" = $1`,
        orgId,
        through,
      );
      return tx.$executeRawUnsafe(
        `DELETE FROM "StripeChange" WHERE "orgId" = $1 AND "sequence" <= $2`,
        orgId,
        through,
      );
    });
  }
  return dropped;
}
