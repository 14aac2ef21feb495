// Scratch PostgreSQL databases (as test/helpers/databases.ts makes them), one per gateway the bench starts.
import { randomBytes } from "node:crypto";
import pg from "pg";

export type ScratchDatabase = { url: string; drop(): Promise<void> };
export type ScratchDatabases = { create(): Promise<ScratchDatabase> };

async function admin(baseUrl: string, sql: string) {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export function scratchDatabases(baseUrl: string): ScratchDatabases {
  return {
    async create() {
      const name = `gw_bench_${randomBytes(6).toString("hex")}`;
      await admin(baseUrl, `CREATE DATABASE "${name}"`);
      const url = new URL(baseUrl);
      url.pathname = `/${name}`;
      return {
        url: url.toString(),
        drop: () => admin(baseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      };
    },
  };
}
