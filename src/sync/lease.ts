import type { Deps } from "../deps.ts";

/**
 * A connection is synced by one instance at a time: a lease row on the connection, taken with a
 * conditional update, renewed while the work runs, and simply expiring if its holder dies.
 */
export function createLeases(deps: Pick<Deps, "db" | "clock">, owner: string, ttlMs = 60_000) {
  const until = () => new Date(deps.clock.now().getTime() + ttlMs);
  return {
    async acquire(connectionId: string): Promise<boolean> {
      const now = deps.clock.now();
      const { count } = await deps.db.prisma.stripeConnection.updateMany({
        where: {
          id: connectionId,
          OR: [{ syncLeaseUntil: null }, { syncLeaseUntil: { lt: now } }, { syncLeaseOwner: owner }],
        },
        data: { syncLeaseOwner: owner, syncLeaseUntil: until() },
      });
      return count === 1;
    },
    async renew(connectionId: string): Promise<void> {
      await deps.db.prisma.stripeConnection.updateMany({
        where: { id: connectionId, syncLeaseOwner: owner },
        data: { syncLeaseUntil: until() },
      });
    },
    async release(connectionId: string): Promise<void> {
      await deps.db.prisma.stripeConnection.updateMany({
        where: { id: connectionId, syncLeaseOwner: owner },
        data: { syncLeaseOwner: null, syncLeaseUntil: null },
      });
    },
  };
}

export type Leases = ReturnType<typeof createLeases>;
