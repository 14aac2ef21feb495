// A private PostgreSQL for the run (initdb into a temp dir, its own port and socket dir), so that it can
// be stopped and started: the machine's shared PostgreSQL (5432) is never touched.
import { chown, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort, onCleanup, run } from "./processes.ts";

export type PrivatePostgres = {
  port: number;
  /** postgresql:// URL of one database */
  url(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** Stops the server; "immediate" is a crash (no checkpoint, recovery at the next start). */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
  query<Row extends pg.QueryResultRow>(database: string, sql: string, params?: unknown[]): Promise<Row[]>;
};

async function binDir(): Promise<string> {
  const versions = (await readdir("/usr/lib/postgresql")).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error("no PostgreSQL under /usr/lib/postgresql");
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/** PostgreSQL refuses to run as root: as root, its commands run as the postgres user. */
async function asPostgres(command: string, args: string[]) {
  const asRoot = process.getuid?.() === 0;
  return asRoot ? run("runuser", ["-u", "postgres", "--", command, ...args]) : run(command, args);
}

export async function startPrivatePostgres(firstPort: number): Promise<PrivatePostgres> {
  const bin = await binDir();
  const port = await freePort(firstPort);
  const dir = await mkdtemp(path.join(tmpdir(), "reliability-pg-"));
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await asPostgres(`${bin}/initdb`, [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  const pgCtl = (...args: string[]) => asPostgres(`${bin}/pg_ctl`, ["-D", data, ...args]);
  let running = false;
  const start = async () => {
    await pgCtl(
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      "-l",
      path.join(dir, "log"),
      "-w",
      "-t",
      "60",
      "start",
    );
    running = true;
  };
  const stop = async (mode: "fast" | "immediate" = "fast") => {
    await pgCtl("-m", mode, "-w", "-t", "60", "stop");
    running = false;
  };
  onCleanup(`private PostgreSQL on ${port}`, async () => {
    if (running) await stop("immediate").catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  await start();
  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  const query = async <Row extends pg.QueryResultRow>(
    database: string,
    sql: string,
    params: unknown[] = [],
  ) => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return (await client.query<Row>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    port,
    url,
    async createDatabase(name) {
      await query("postgres", `CREATE DATABASE "${name}"`);
      return url(name);
    },
    stop,
    start,
    query,
  };
}
