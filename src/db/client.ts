import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.ts";
import { applyMigrations, type MigrationConnection } from "./migrate.ts";
import { lockDataDir } from "./pglite-lock.ts";
import { type BeforeStatement, withStatementHook } from "./statement-hook.ts";

export type { PrismaClient };

export type Database = {
  prisma: PrismaClient;
  kind: "pglite" | "postgres";
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Calls `listener` with each SQL statement sent (only when opened with `queryEvents`). */
  onQuery(listener: (sql: string) => void): () => void;
  close(): Promise<void>;
};

export type DatabaseOptions = {
  /** postgres:// URL; null opens embedded PGlite */
  url: string | null;
  /** PGlite data directory; "memory://" for an in-memory database */
  pgliteDir: string;
  migrationsDir?: string;
  log?: (message: string) => void;
  /** Emit every SQL statement to `onQuery` listeners (tests that pin query counts). */
  queryEvents?: boolean;
  /** Sees every statement before it runs; throwing fails it (fault tests). */
  beforeStatement?: BeforeStatement;
  /**
   * A PGlite data directory (a `dumpDataDir()` tarball) to start an embedded database from instead of an
   * empty one; pending migrations still apply on top. Tests start from an already-migrated copy.
   */
  pgliteDataDir?: Blob;
};

const DEFAULT_MIGRATIONS_DIR = path.resolve(fileURLToPath(import.meta.url), "../../../prisma/migrations");
// The key `prisma migrate` itself locks on, so the runner and the real CLI exclude each other too.
const MIGRATION_LOCK_KEY = 72707369;

/** Opens PostgreSQL (url) or embedded PGlite, applies pending migrations, and returns a Prisma client. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const log = options.log ?? (() => {});
  const driver = { events: options.queryEvents ?? false, beforeStatement: options.beforeStatement };
  return options.url
    ? openPostgres(options.url, migrationsDir, log, driver)
    : openPGlite(options.pgliteDir, migrationsDir, log, driver, options.pgliteDataDir);
}

async function openPostgres(
  url: string,
  migrationsDir: string,
  log: (m: string) => void,
  driver: DriverOptions,
): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection that PostgreSQL drops (restart, failover, pg_terminate_backend) is an 'error' event
  // on the pool; unhandled, it would crash the process. The pool discards it and connects anew later.
  pool.on("error", (error) => log(`PostgreSQL dropped an idle connection: ${error.message}`));
  try {
    const client = await pool.connect();
    try {
      // Serialises concurrent starters: the second waits, then finds nothing left to apply.
      await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
      // adapter-pg splits scripts on ';', so whole files go through the simple query protocol.
      const connection: MigrationConnection = {
        script: async (sql) => void (await client.query(sql)),
        query: async <Row extends unknown[]>(sql: string, params: unknown[] = []) =>
          (await client.query<Row>({ text: sql, values: params, rowMode: "array" })).rows,
      };
      await applyMigrations(connection, migrationsDir, log);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  return wrap(new PrismaPg(pool), "postgres", driver, () => pool.end());
}

async function openPGlite(
  dir: string,
  migrationsDir: string,
  log: (m: string) => void,
  driver: DriverOptions,
  dataDir?: Blob,
): Promise<Database> {
  const inMemory = dir.startsWith("memory://");
  if (!inMemory) await mkdir(dir, { recursive: true });
  const unlock = inMemory ? async () => {} : await lockDataDir(dir);
  const pglite = dataDir ? new PGlite(dir, { loadDataDir: dataDir }) : new PGlite(dir);
  try {
    // pglite-prisma-adapter's executeScript does not await, so scripts go to PGlite directly.
    const connection: MigrationConnection = {
      script: async (sql) => void (await pglite.exec(sql)),
      query: async (sql, params = []) =>
        (await pglite.query(sql, params, { rowMode: "array" })).rows as never,
    };
    await applyMigrations(connection, migrationsDir, log);
  } catch (error) {
    await pglite.close();
    await unlock();
    throw error;
  }
  return wrap(new PrismaPGlite(pglite), "pglite", driver, async () => {
    await pglite.close();
    await unlock();
  });
}

type DriverOptions = { events: boolean; beforeStatement?: BeforeStatement };

function wrap(
  driverAdapter: SqlDriverAdapterFactory,
  kind: Database["kind"],
  { events, beforeStatement }: DriverOptions,
  closeDriver: () => Promise<void>,
): Database {
  const adapter = beforeStatement ? withStatementHook(driverAdapter, beforeStatement) : driverAdapter;
  const listeners = new Set<(sql: string) => void>();
  const prisma = events
    ? new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] })
    : new PrismaClient({ adapter });
  if (events) {
    (prisma as unknown as PrismaClient<"query">).$on("query", (event) => {
      for (const listener of listeners) listener(event.query);
    });
  }
  return {
    prisma,
    kind,
    onQuery(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    ping: async () => void (await prisma.$queryRawUnsafe("SELECT 1")),
    close: async () => {
      await prisma.$disconnect();
      await closeDriver();
    },
  };
}
