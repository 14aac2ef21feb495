import pg from "pg";
import { EmbeddedDatabaseError } from "./errors.ts";

// Held for the gateway's lifetime on a session of its own: PostgreSQL releases it the moment that session
// ends, however the process ended, so there is no stale lock to clear after a crash.
const INSTANCE_LOCK_KEY = 2_026_120_701;
const APPLICATION_NAME = "stripe-gateway";

export type InstanceLock = { release(): Promise<void> };

/** One gateway per DATA_DIR: a second one is refused with one line naming the first. */
export async function takeInstanceLock(connection: pg.ClientConfig, dataDir: string): Promise<InstanceLock> {
  const client = new pg.Client({ ...connection, application_name: `${APPLICATION_NAME} pid=${process.pid}` });
  // The server stopping under a running gateway surfaces through its pool; this session only has to not crash.
  client.on("error", () => {});
  await client.connect();
  const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [
    INSTANCE_LOCK_KEY,
  ]);
  if (rows[0]?.locked) return { release: () => client.end() };
  const holder = await client
    .query<{ name: string }>(
      `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted`,
      [INSTANCE_LOCK_KEY],
    )
    .then((result) => /pid=(\d+)/.exec(result.rows[0]?.name ?? "")?.[1])
    .finally(() => client.end());
  throw new EmbeddedDatabaseError(
    `another gateway${holder ? ` (process ${holder})` : ""} is running on DATA_DIR ${dataDir}: stop it first, or give this one another DATA_DIR or a DATABASE_URL`,
  );
}

/** Whether a gateway holds the lock right now (a CLI command leaves the cluster running for it). */
export async function gatewayHoldsLock(connection: pg.ClientConfig): Promise<boolean> {
  const client = new pg.Client(connection);
  await client.connect();
  try {
    const { rows } = await client.query<{ held: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted) AS held",
      [INSTANCE_LOCK_KEY],
    );
    return rows[0]?.held ?? false;
  } finally {
    await client.end();
  }
}
