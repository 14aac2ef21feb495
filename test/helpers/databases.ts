import { randomBytes } from "node:crypto";
import pg from "pg";

export type DatabaseTarget = { name: "pglite" | "postgres"; url: string | null };

const postgresUrl = process.env.TEST_DATABASE_URL || null;
if (!postgresUrl) {
  console.warn(
    "\n!!! TEST_DATABASE_URL is not set: the PostgreSQL half of the suite is SKIPPED (.ci/run always sets it).\n",
  );
}

/**
 * Every database the suite runs against: embedded PGlite, and PostgreSQL when TEST_DATABASE_URL is set.
 * TEST_DATABASE_TARGETS=postgres narrows a run to PostgreSQL (.ci/run's second pass).
 */
export const databaseTargets: DatabaseTarget[] = [
  { name: "pglite" as const, url: null },
  ...(postgresUrl ? [{ name: "postgres" as const, url: postgresUrl }] : []),
].filter(
  (target) => !process.env.TEST_DATABASE_TARGETS || process.env.TEST_DATABASE_TARGETS.includes(target.name),
);

/** A fresh, empty PostgreSQL database for one test file; drop() removes it. */
export async function createScratchDatabase(
  baseUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gw_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
