// Vitest globalSetup: one embedded PostgreSQL cluster for the whole run (the gateway's own, from
// src/db/embedded/), and on it and on TEST_DATABASE_URL's server one migrated template database. Every test
// gateway gets a database of its own, copied from a template (test/helpers/databases.ts).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/client.ts";
import { startCluster } from "../../src/db/embedded/cluster.ts";

/** A server the suite runs against: `url` reaches its `postgres` database; `template` is migrated. */
export type TestServer = { url: string; template: string };

declare module "vitest" {
  export interface ProvidedContext {
    embeddedServer: TestServer;
    postgresServer: TestServer | null;
  }
}

/** Nothing here has to survive a crash of the machine: the test cluster skips every flush to disk. */
const TEST_CLUSTER_SETTINGS = {
  fsync: false,
  synchronous_commit: false,
  full_page_writes: false,
  max_connections: 500,
};

export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "gateway-test-cluster-"));
  const cluster = await startCluster({ dataDir, log: () => {}, settings: TEST_CLUSTER_SETTINGS });
  const { host, port, user, password } = cluster.connection;
  const embeddedUrl = `postgresql://${user}:${encodeURIComponent(String(password))}@localhost:${port}/postgres?host=${encodeURIComponent(String(host))}`;
  const template = `gw_template_${randomBytes(4).toString("hex")}`;
  const servers: TestServer[] = [];
  try {
    const embedded = { url: embeddedUrl, template: await createTemplate(embeddedUrl, template) };
    servers.push(embedded);
    const postgresUrl = process.env.TEST_DATABASE_URL || null;
    const postgres = postgresUrl
      ? { url: postgresUrl, template: await createTemplate(postgresUrl, template) }
      : null;
    if (postgres) servers.push(postgres);
    project.provide("embeddedServer", embedded);
    project.provide("postgresServer", postgres);
  } catch (error) {
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return async () => {
    for (const server of servers.slice(1)) await dropDatabase(server.url, server.template);
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

/** The URL of database `name` on the server at `serverUrl`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A new database with every migration applied, marked as a template. */
async function createTemplate(serverUrl: string, name: string): Promise<string> {
  await admin(serverUrl, `CREATE DATABASE "${name}"`);
  const db = await openDatabase({ connection: databaseUrl(serverUrl, name), kind: "postgres" });
  await db.close();
  await admin(serverUrl, `ALTER DATABASE "${name}" WITH IS_TEMPLATE true`);
  return name;
}

async function dropDatabase(serverUrl: string, name: string) {
  await admin(serverUrl, `ALTER DATABASE "${name}" WITH IS_TEMPLATE false`);
  await admin(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** Runs one statement on the server's `postgres` database (CREATE and DROP DATABASE cannot run elsewhere). */
export async function admin(serverUrl: string, sql: string) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
