import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { applyMigrations, MIGRATIONS_DIR, type MigrationConnection } from "./migrate.ts";
import { type BeforeStatement, withStatementHook } from "./statement-hook.ts";

export type { PrismaClient };

export type Database = {
  prisma: PrismaClient;
  /** The embedded cluster in DATA_DIR, or a server at DATABASE_URL (logs and `migrate` name it). */
  kind: "embedded" | "postgres";
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Calls `listener` with each SQL statement sent (only when opened with `queryEvents`). */
  onQuery(listener: (sql: string) => void): () => void;
  /**
   * One statement on the same pool without the ORM, for the few on a hot path (a connection's idle poll):
   * rows as the driver reads them, timestamp columns as UTC Dates like Prisma's, Dates sent as UTC. The
   * statement hook and query listeners see it like any other.
   */
  sql<Row>(text: string, values?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
  /**
   * Stops the embedded cluster this process runs without waiting for the pool (a shutdown past its deadline:
   * the cluster must not outlive the gateway). Nothing for a server at DATABASE_URL.
   */
  stopServer(): Promise<void>;
};

export type DatabaseOptions = {
  /** A postgres:// URL, or the embedded cluster's connection settings */
  connection: string | pg.ClientConfig;
  kind: Database["kind"];
  migrationsDir?: string;
  log?: (message: string) => void;
  /** Emit every SQL statement to `onQuery` listeners (tests that pin query counts). */
  queryEvents?: boolean;
  /** Sees every statement before it runs; throwing fails it (fault tests). */
  beforeStatement?: BeforeStatement;
  /** Runs after the pool has closed (the embedded cluster stops there). */
  afterClose?: () => Promise<void>;
  /** Database.stopServer (the embedded cluster's fast stop). */
  stopServer?: () => Promise<void>;
};

/** Prisma's DateTime columns are `timestamp(3)` (no zone) holding UTC; the driver would read them as local time. */
const TIMESTAMP_WITHOUT_TIME_ZONE = 1114;
const UTC_TIMESTAMPS = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === TIMESTAMP_WITHOUT_TIME_ZONE
      ? (value: string) => new Date(`${value.replace(" ", "T")}Z`)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

// The key `prisma migrate` itself locks on, so the runner and the real CLI exclude each other too.
const MIGRATION_LOCK_KEY = 72707369;

/** Opens PostgreSQL, applies pending migrations, and returns a Prisma client on one pool. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const log = options.log ?? (() => {});
  const settings =
    typeof options.connection === "string" ? { connectionString: options.connection } : options.connection;
  const pool = new pg.Pool({ ...settings, max: 10 });
  // An idle connection that PostgreSQL drops (restart, failover, pg_terminate_backend) is an 'error' event
  // on the pool; unhandled, it would crash the process. The pool discards it and connects anew later.
  pool.on("error", (error) => log(`PostgreSQL dropped an idle connection: ${error.message}`));
  try {
    await migrate(pool, options.migrationsDir ?? MIGRATIONS_DIR, log);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const factory = new PrismaPg(pool);
  const adapter = options.beforeStatement ? withStatementHook(factory, options.beforeStatement) : factory;
  const events = options.queryEvents ?? false;
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
    kind: options.kind,
    async sql<Row>(text: string, values: readonly unknown[] = []) {
      await options.beforeStatement?.(text);
      if (events) for (const listener of listeners) listener(text);
      const result = await pool.query({
        text,
        values: values.map((value) => (value instanceof Date ? value.toISOString() : value)),
        types: UTC_TIMESTAMPS,
      });
      return result.rows as Row[];
    },
    onQuery(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    ping: async () => void (await prisma.$queryRawUnsafe("SELECT 1")),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
      await options.afterClose?.();
    },
    stopServer: async () => await options.stopServer?.(),
  };
}

async function migrate(pool: pg.Pool, migrationsDir: string, log: (message: string) => void) {
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
}
