import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { admin, databaseUrl, type TestServer } from "../setup/test-databases.ts";

/** A PostgreSQL server of the run (test/setup/test-databases.ts) with its migrated template database. */
export type DatabaseTarget = { name: "embedded" | "postgres" } & TestServer;

const postgres = inject("postgresServer");
if (!postgres) {
  console.warn(
    "\n!!! TEST_DATABASE_URL is not set: the PostgreSQL-server half of the suite is SKIPPED (.ci/run always sets it).\n",
  );
}

/**
 * Every server the suite runs against: the run's embedded cluster, and the PostgreSQL server at
 * TEST_DATABASE_URL when it is set. TEST_DATABASE_TARGETS=postgres narrows a run to the server (.ci/run's
 * second pass).
 */
export const databaseTargets: DatabaseTarget[] = [
  { name: "embedded" as const, ...inject("embeddedServer") },
  ...(postgres ? [{ name: "postgres" as const, ...postgres }] : []),
].filter(
  (target) => !process.env.TEST_DATABASE_TARGETS || process.env.TEST_DATABASE_TARGETS.includes(target.name),
);

/** The embedded cluster's target: tests that need one database, whichever. */
export const embeddedTarget: DatabaseTarget = { name: "embedded", ...inject("embeddedServer") };

/**
 * A database of its own for one test gateway: a copy of the target's migrated template (`empty`: a
 * database with nothing in it). drop() removes it.
 */
export async function createScratchDatabase(
  target: Pick<DatabaseTarget, "url" | "template">,
  { empty = false } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gw_test_${randomBytes(6).toString("hex")}`;
  await admin(target.url, `CREATE DATABASE "${name}"${empty ? "" : ` TEMPLATE "${target.template}"`}`);
  return {
    url: databaseUrl(target.url, name),
    drop: () => admin(target.url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
