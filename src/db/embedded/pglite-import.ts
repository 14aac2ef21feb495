// Gateways before the embedded PostgreSQL kept their data in DATA_DIR/pglite (PGlite, PostgreSQL compiled to
// WebAssembly). Its files are not readable by another PostgreSQL version, so at the first start on such a
// DATA_DIR the rows are copied over once, table by table, and the old folder is kept beside, renamed.
import { readFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { applyMigrations } from "../migrate.ts";
import { quoteIdentifier } from "../sql.ts";
import { EmbeddedDatabaseError } from "./errors.ts";

export const PGLITE_FOLDER = "pglite";
const IMPORTED_FOLDER = "pglite.imported";
const BATCH_ROWS = 500;
const IMPORT_LOCK_KEY = 2_026_120_702;

type Source = {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  exec(sql: string): Promise<unknown>;
  close(): Promise<void>;
};

/**
 * Copies an earlier PGlite database of DATA_DIR into the (migrated) embedded cluster, once: the copy is
 * one transaction into an empty database, and the old folder is then renamed to `pglite.imported`.
 */
export async function importPGliteDataDir(options: {
  dataDir: string;
  connection: pg.ClientConfig;
  migrationsDir: string;
  log: (message: string) => void;
}): Promise<void> {
  const { dataDir, log } = options;
  const folder = path.join(dataDir, PGLITE_FOLDER);
  if (!(await stat(path.join(folder, "PG_VERSION")).catch(() => null))) return;
  await refuseWhileInUse(folder);

  const { PGlite } = await import("@electric-sql/pglite");
  const source: Source = await PGlite.create(folder);
  let copied: string | null = null;
  const target = new pg.Client(options.connection);
  await target.connect();
  try {
    // The old database first gets this version's migrations, so that both have the same tables and columns.
    await applyMigrations(
      {
        script: async (sql) => void (await source.exec(sql)),
        query: async (sql, params = []) =>
          (await source.query(sql, params)).rows.map((row) => Object.values(row as object)) as never,
      },
      options.migrationsDir,
      () => {},
    );
    await target.query("BEGIN");
    await target.query("SELECT pg_advisory_xact_lock($1)", [IMPORT_LOCK_KEY]);
    if (await hasOrgs(target)) {
      await target.query("ROLLBACK");
      log(
        `${folder} holds an earlier PGlite database, but the embedded PostgreSQL already has data: left both as they are`,
      );
      return;
    }
    // Rows arrive table by table: foreign keys are checked by the data having been consistent in PGlite.
    await target.query("SET LOCAL session_replication_role = replica");
    const counts: Record<string, number> = {};
    for (const table of await tablesOf(target)) counts[table] = await copyTable(source, target, table);
    await resetSequences(target);
    await target.query("COMMIT");
    await source.close();
    const objects = Object.entries(counts)
      .filter(
        ([table]) =>
          table.startsWith("Stripe") &&
          !["StripeConnection", "StripeConfig", "StripeEvent", "StripeChange", "StripeSyncState"].includes(
            table,
          ),
      )
      .reduce((sum, [, count]) => sum + count, 0);
    copied = `${counts.Org ?? 0} orgs, ${counts.ApiKey ?? 0} API keys, ${counts.StripeConfig ?? 0} Stripe configs, ${counts.StripeConnection ?? 0} connections, ${objects} synced objects, ${counts.StripeEvent ?? 0} events`;
  } catch (error) {
    await target.query("ROLLBACK").catch(() => {});
    throw new EmbeddedDatabaseError(
      `copying the earlier PGlite database ${folder} into the embedded PostgreSQL failed, and nothing was changed: ${(error as Error).message}`,
    );
  } finally {
    await target.end();
    await source.close().catch(() => {});
  }
  if (!copied) return;
  const kept = await keepAside(dataDir).catch((error: Error) => {
    throw new EmbeddedDatabaseError(
      `copied the earlier PGlite database ${folder} into the embedded PostgreSQL (${copied}), but could not rename the old folder (${error.message}): move it away from DATA_DIR before the next start`,
    );
  });
  log(
    `copied the earlier PGlite database ${folder} into the embedded PostgreSQL: ${copied}. The old folder is kept as ${kept}: delete it once the gateway works`,
  );
}

/** The PGlite version locked its folder with `<folder>.lock`, holding its process id. */
async function refuseWhileInUse(folder: string) {
  const pid = Number((await readFile(`${folder}.lock`, "utf8").catch(() => "")).trim());
  if (!pid || pid === process.pid) return;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return;
  }
  throw new EmbeddedDatabaseError(
    `an earlier gateway (process ${pid}) still uses ${folder}: stop it, then start this version to copy its data over`,
  );
}

async function hasOrgs(target: pg.Client): Promise<boolean> {
  return ((await target.query(`SELECT 1 FROM "Org" LIMIT 1`)).rowCount ?? 0) > 0;
}

async function tablesOf(target: pg.Client): Promise<string[]> {
  const { rows } = await target.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
      ORDER BY table_name`,
  );
  return rows.map((row) => row.name);
}

/** Pages the table out of PGlite as JSON and into PostgreSQL with json_populate_recordset (by column name). */
async function copyTable(source: Source, target: pg.Client, table: string): Promise<number> {
  const name = quoteIdentifier(table);
  let copied = 0;
  let after = "(0,0)";
  for (;;) {
    // Keyset pages on the row's physical address; the extra "_ctid" key is ignored on the way in.
    const { rows } = await source.query<{ batch: string | null; n: number; last: string | null }>(
      `SELECT json_agg(t)::text AS batch, count(*)::int AS n, max(t._ctid)::text AS last
         FROM (SELECT ctid AS _ctid, * FROM ${name} WHERE ctid > $1::tid ORDER BY ctid LIMIT ${BATCH_ROWS}) t`,
      [after],
    );
    const { batch, n, last } = rows[0]!;
    if (!batch || !last || n === 0) return copied;
    await target.query(`INSERT INTO ${name} SELECT * FROM json_populate_recordset(NULL::${name}, $1::json)`, [
      batch,
    ]);
    copied += n;
    after = last;
  }
}

/** Serial columns continue after the copied rows. */
async function resetSequences(target: pg.Client) {
  const { rows } = await target.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_default LIKE 'nextval(%'`,
  );
  for (const { table_name, column_name } of rows) {
    const table = quoteIdentifier(table_name);
    const column = quoteIdentifier(column_name);
    await target.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(${column}), 0) + 1, false) FROM ${table}`,
      [table, column_name],
    );
  }
}

async function keepAside(dataDir: string): Promise<string> {
  const from = path.join(dataDir, PGLITE_FOLDER);
  let to = path.join(dataDir, IMPORTED_FOLDER);
  if (await stat(to).catch(() => null)) to = `${to}-${Date.now()}`;
  await rename(from, to);
  await rename(`${from}.lock`, `${to}.lock`).catch(() => {});
  return to;
}
