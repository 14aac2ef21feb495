import type { Clock } from "../clock.ts";
import type { Prisma, StripeConnection } from "../generated/prisma/client.ts";
import type { Database } from "./client.ts";
import { quoteIdentifier } from "./sql.ts";

/** The two columns of a lease on the connection row: who holds it, and until when. */
export type LeaseColumns =
  | { owner: "syncLeaseOwner"; until: "syncLeaseUntil" }
  | { owner: "tokenRefreshOwner"; until: "tokenRefreshUntil" };

/**
 * Work on a connection done by one instance at a time: a lease on the connection row, taken with a
 * conditional update (free, expired, or already ours), renewed while the work runs, and simply expiring
 * if its holder dies. No transaction or lock is held meanwhile.
 */
export function createConnectionLease(
  deps: { db: Pick<Database, "prisma" | "sql">; clock: Clock },
  owner: string,
  columns: LeaseColumns,
  ttlMs: number,
) {
  const until = () => new Date(deps.clock.now().getTime() + ttlMs);
  const ownerColumn = quoteIdentifier(columns.owner);
  const untilColumn = quoteIdentifier(columns.until);
  const held = (connectionId: string) =>
    ({ id: connectionId, [columns.owner]: owner }) as Prisma.StripeConnectionWhereInput;
  const set = (value: Date | null) =>
    ({
      [columns.owner]: value ? owner : null,
      [columns.until]: value,
    }) as Prisma.StripeConnectionUpdateManyMutationInput;
  const takeable = (connectionId: string) =>
    ({
      id: connectionId,
      OR: [
        { [columns.until]: null },
        { [columns.until]: { lt: deps.clock.now() } },
        { [columns.owner]: owner },
      ],
    }) as Prisma.StripeConnectionWhereInput;
  return {
    async acquire(connectionId: string): Promise<boolean> {
      const { count } = await deps.db.prisma.stripeConnection.updateMany({
        where: takeable(connectionId),
        data: set(until()),
      });
      return count === 1;
    },
    /** `acquire`, returning the row as the lease was taken (one statement): null when someone else holds it. */
    async claim(connectionId: string): Promise<StripeConnection | null> {
      const [row] = await deps.db.sql<StripeConnection>(
        `UPDATE "StripeConnection" SET ${ownerColumn} = $1, ${untilColumn} = $2, "updatedAt" = $3 ` +
          `WHERE "id" = $4 AND (${untilColumn} IS NULL OR ${untilColumn} < $5 OR ${ownerColumn} = $1) RETURNING *`,
        [owner, until(), new Date(), connectionId, deps.clock.now()],
      );
      return row ?? null;
    },
    /**
     * Releases the lease and writes `data` in the same statement, if the lease is still ours and the row
     * still has the values of `where`; false when it did not (nothing was written, the lease not released).
     */
    async releaseWith(
      connectionId: string,
      data: Readonly<Record<string, unknown>>,
      where: Readonly<Record<string, unknown>>,
    ): Promise<boolean> {
      const values = [...Object.values(data), ...Object.values(where), owner, connectionId, new Date()];
      const sets = Object.keys(data).map((column, index) => `${quoteIdentifier(column)} = $${index + 1}`);
      const conditions = Object.keys(where).map(
        (column, index) => `${quoteIdentifier(column)} = $${sets.length + index + 1}`,
      );
      const rows = await deps.db.sql(
        `UPDATE "StripeConnection" SET ${[...sets, `${ownerColumn} = NULL`, `${untilColumn} = NULL`].join(", ")}, ` +
          `"updatedAt" = $${values.length} WHERE ${[...conditions, `${ownerColumn} = $${values.length - 2}`].join(" AND ")} ` +
          `AND "id" = $${values.length - 1} RETURNING 1`,
        values,
      );
      return rows.length === 1;
    },
    async renew(connectionId: string): Promise<void> {
      await deps.db.prisma.stripeConnection.updateMany({ where: held(connectionId), data: set(until()) });
    },
    async release(connectionId: string): Promise<void> {
      await deps.db.prisma.stripeConnection.updateMany({ where: held(connectionId), data: set(null) });
    },
  };
}
