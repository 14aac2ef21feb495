// Start-up runner for prisma/migrations/<name>/migration.sql. It records each migration in
// `_prisma_migrations` exactly as `prisma migrate deploy` does (same table, sha256 checksum of the file,
// applied_steps_count 1), so the native Prisma CLI can take over wherever it is available.
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** prisma/migrations: one folder per migration, applied in name order. */
export const MIGRATIONS_DIR = path.resolve(fileURLToPath(import.meta.url), "../../../prisma/migrations");

/** A connection able to run one whole multi-statement script and parameterised queries. */
export type MigrationConnection = {
  script(sql: string): Promise<void>;
  query<Row extends unknown[]>(sql: string, params?: unknown[]): Promise<Row[]>;
};

class MigrationError extends Error {
  override name = "MigrationError";
}

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

type AppliedRow = [name: string, checksum: string, finishedAt: unknown, rolledBackAt: unknown];

/** Applies pending migrations in name order; returns the names applied. Refuses to run past a failed one. */
export async function applyMigrations(
  db: MigrationConnection,
  migrationsDir: string,
  log: (message: string) => void,
): Promise<string[]> {
  await db.script(MIGRATIONS_TABLE);
  const rows = await db.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
  );
  const applied = new Map<string, string>();
  for (const [name, checksum, finishedAt, rolledBackAt] of rows) {
    if (rolledBackAt != null) continue;
    if (finishedAt == null) {
      throw new MigrationError(
        `migration ${name} failed earlier and is recorded as unfinished in _prisma_migrations; ` +
          `fix the database, then mark it with \`prisma migrate resolve\` before starting again`,
      );
    }
    applied.set(name, checksum);
  }

  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const done: string[] = [];
  for (const name of names) {
    const sql = await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8");
    const checksum = createHash("sha256").update(sql).digest("hex");
    if (applied.has(name)) {
      if (applied.get(name) !== checksum) log(`migration ${name} was modified after it was applied`);
      continue;
    }
    const id = randomUUID();
    await db.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
      [id, checksum, name],
    );
    try {
      await db.script(sql);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await db.query(`UPDATE "_prisma_migrations" SET logs = $1 WHERE id = $2`, [message, id]);
      throw new MigrationError(`migration ${name} failed: ${message}`);
    }
    await db.query(
      `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    log(`applied migration ${name}`);
    done.push(name);
  }
  return done;
}
