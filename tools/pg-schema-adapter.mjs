// Prisma's PostgreSQL driver adapter (@prisma/adapter-pg 7.10.1) made fit for the WASM schema engine
// (@prisma/schema-engine-wasm), shared by the CLI shim (tools/prisma-schema-engine.mjs) and by
// `npm run db:new | db:check` (scripts/migrations.ts). Plain JavaScript because the shim runs under plain node;
// its types for TypeScript are in pg-schema-adapter.d.mts beside it.
import { PrismaPg } from "@prisma/adapter-pg";
import { ColumnTypeEnum } from "@prisma/driver-adapter-utils";
import pg from "pg";

/**
 * A driver adapter factory for the schema engine on the server `connection` reaches (a postgresql:// URL or
 * a pg client config without connectionString). It works around adapter-pg 7.10.1:
 * - it cannot read the "char" type (oid 18), which the schema describer selects (pg_constraint.contype, where
 *   PostgreSQL 18 lists NOT NULL constraints too): those columns reach the engine as Character values;
 * - executeScript splits the script on ';' (breaks on string literals and function bodies): the whole
 *   script goes to the server in one simple-protocol query instead, as the native engine sends it;
 * - its connectToShadowDb drops the shadow database while its own pool is still connected to it, and
 *   cannot rename the database of a connection string.
 * connectToShadowDb creates a fresh database on the same server (the user needs CREATEDB) and drops it when
 * the engine disposes of it, or at close() at the latest; `shadow` names an existing database to use instead.
 *
 * @param {string | import("pg").ClientConfig} connection
 * @param {{ shadow?: string | import("pg").ClientConfig }} [options]
 */
export function schemaEnginePgFactory(connection, options = {}) {
  /** @type {Set<() => Promise<void>>} each shadow database's end (a no-op once it ran) */
  const pending = new Set();
  const mainPool = newPool(connection);
  const factory = new PrismaPg(mainPool);
  const connect = factory.connect.bind(factory);
  factory.connect = async () => fixAdapter(mainPool, await connect());
  let shadows = 0;
  /** @type {Set<Promise<unknown>>} shadow databases being made: close() waits for them */
  const making = new Set();
  factory.connectToShadowDb = () => {
    const made = shadowDb();
    making.add(made);
    return made.finally(() => making.delete(made));
  };
  const shadowDb = async () => {
    if (options.shadow) {
      const other = schemaEnginePgFactory(options.shadow);
      const adapter = await other.connect();
      const end = once(() => other.close());
      pending.add(end);
      adapter.dispose = end;
      return adapter;
    }
    const name = `prisma_shadow_${Date.now()}_${process.pid}_${++shadows}`;
    const admin = new pg.Client(connection);
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } catch (error) {
      await admin.end();
      throw error;
    }
    const pool = newPool(withDatabase(connection, name));
    const drop = once(async () => {
      try {
        await pool.end();
        await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
      } finally {
        await admin.end();
      }
    });
    pending.add(drop);
    const adapter = fixAdapter(pool, await new PrismaPg(pool).connect());
    adapter.dispose = drop;
    return adapter;
  };
  /** Drops the shadow databases the engine did not dispose of, then ends the main pool. */
  const close = once(async () => {
    await Promise.allSettled(making);
    for (const step of pending) await step();
    await mainPool.end();
  });
  return Object.assign(factory, { close });
}

/**
 * fn, run at the first call only: every call gets that run's promise (the engine and close() may both end
 * the same shadow database, at the same moment).
 * @param {() => Promise<void>} fn @returns {() => Promise<void>}
 */
function once(fn) {
  /** @type {Promise<void> | undefined} */
  let run;
  return () => (run ??= fn());
}

/** @param {string | import("pg").ClientConfig} connection @param {string} database */
function withDatabase(connection, database) {
  if (typeof connection !== "string") return { ...connection, database };
  const url = new URL(connection);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** @param {string | import("pg").ClientConfig} connection */
function newPool(connection) {
  return new pg.Pool(typeof connection === "string" ? { connectionString: connection } : connection);
}

const CHAR_OID = 18;
const TEXT_OID = 25;

/**
 * The adapter-pg workarounds on one connection's adapter: whole scripts, and "char" columns read (as text by
 * adapter-pg) and handed to the engine as Character values, which is what the schema describer asks for.
 * @template {import("@prisma/driver-adapter-utils").SqlDriverAdapter} A
 * @param {import("pg").Pool} pool @param {A} adapter @returns {A}
 */
function fixAdapter(pool, adapter) {
  adapter.executeScript = async (sql) => {
    await pool.query(sql);
  };
  const io = /** @type {any} */ (adapter);
  /** @type {WeakMap<object, number[]>} the "char" columns of each query's result */
  const charColumns = new WeakMap();
  const performIO = io.performIO.bind(adapter);
  io.performIO = async (/** @type {import("@prisma/driver-adapter-utils").SqlQuery} */ query) => {
    const result = await performIO(query);
    /** @type {number[]} */
    const chars = [];
    (result.fields ?? []).forEach((/** @type {{ dataTypeID: number }} */ field, /** @type {number} */ i) => {
      if (field.dataTypeID !== CHAR_OID) return;
      field.dataTypeID = TEXT_OID;
      chars.push(i);
    });
    if (chars.length) charColumns.set(query, chars);
    return result;
  };
  const queryRaw = adapter.queryRaw.bind(adapter);
  adapter.queryRaw = async (query) => {
    const result = await queryRaw(query);
    for (const i of charColumns.get(query) ?? []) result.columnTypes[i] = ColumnTypeEnum.Character;
    return result;
  };
  return adapter;
}
