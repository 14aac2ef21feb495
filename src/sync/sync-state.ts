import type { StripeSyncState } from "../generated/prisma/client.ts";
import type { SyncDeps } from "./sync-deps.ts";

export type SyncStatus = "pending" | "running" | "done" | "failed" | "forbidden";

export function readSyncState(deps: Pick<SyncDeps, "db">, connectionId: string, resource: string) {
  return deps.db.prisma.stripeSyncState.findUnique({
    where: { connectionId_resource: { connectionId, resource } },
  });
}

/**
 * A connection's sync states by resource, read once by a run: only the run holding the connection's
 * lease writes them, so they stay true for it (but for the states it writes itself afterwards).
 */
export type SyncStates = ReadonlyMap<string, StripeSyncState>;

export async function readSyncStates(deps: Pick<SyncDeps, "db">, connectionId: string): Promise<SyncStates> {
  const rows = await deps.db.sql<StripeSyncState>(
    `SELECT * FROM "StripeSyncState" WHERE "connectionId" = $1`,
    [connectionId],
  );
  return new Map(rows.map((row) => [row.resource, row]));
}

/** The events poller's state after a poll: done, when, and how many events it applied (one statement). */
export async function recordPoll(
  deps: Pick<SyncDeps, "db" | "clock">,
  connectionId: string,
  resource: string,
  applied: number,
) {
  const now = deps.clock.now();
  await deps.db.sql(
    `INSERT INTO "StripeSyncState" ("connectionId", "resource", "status", "objectsSynced", "lastSyncedAt", "updatedAt") ` +
      `VALUES ($1, $2, 'done', $3, $4, $5) ON CONFLICT ("connectionId", "resource") DO UPDATE SET "status" = 'done', ` +
      `"objectsSynced" = "StripeSyncState"."objectsSynced" + $3, "lastSyncedAt" = $4, "error" = NULL, "updatedAt" = $5`,
    [connectionId, resource, applied, now, new Date()],
  );
}

export function writeSyncState(
  deps: { db: { prisma: Pick<SyncDeps["db"]["prisma"], "stripeSyncState"> } },
  connectionId: string,
  resource: string,
  data: {
    status?: SyncStatus;
    cursor?: string | null;
    error?: string | null;
    lastSyncedAt?: Date;
    objectsSynced?: { increment: number } | number;
    objectsSkipped?: { increment: number };
  },
) {
  const { objectsSynced, objectsSkipped, ...rest } = data;
  return deps.db.prisma.stripeSyncState.upsert({
    where: { connectionId_resource: { connectionId, resource } },
    create: {
      connectionId,
      resource,
      status: rest.status ?? "pending",
      ...rest,
      objectsSynced: typeof objectsSynced === "number" ? objectsSynced : (objectsSynced?.increment ?? 0),
      objectsSkipped: objectsSkipped?.increment ?? 0,
    },
    update: {
      ...rest,
      ...(objectsSynced !== undefined ? { objectsSynced } : {}),
      ...(objectsSkipped?.increment ? { objectsSkipped } : {}),
    },
  });
}

/** A full resync starts every resource over; `keep` names states that survive it. */
export function resetSyncStates(deps: Pick<SyncDeps, "db">, connectionId: string, keep: string[] = []) {
  return deps.db.prisma.stripeSyncState.deleteMany({ where: { connectionId, resource: { notIn: keep } } });
}
