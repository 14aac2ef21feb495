// The embedded default as a user meets it: `npm start`'s entry point on a DATA_DIR, with no DATABASE_URL.
// Each test starts gateway processes one after another (several seconds each on a loaded 2-core machine).
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { unreachableParent } from "../../src/db/embedded/server-user.ts";
import { eventually } from "../helpers/eventually.ts";
import {
  type GatewayProcess,
  postGraphql,
  runToCompletion,
  startGatewayProcess,
} from "../helpers/gateway-process.ts";

const ADMIN = "embedded-e2e-admin-key-abcdefghijklmnop";
const run = promisify(execFile);

type Read = { createOrg?: { apiKey: string }; viewer?: { name: string } };
const graphql = (url: string, query: string, key: string) => postGraphql<Read>(url, query, key);

/** The running server of DATA_DIR's cluster: its pid, port, socket folder and listen address. */
async function postmaster(dataDir: string) {
  const text = await readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").catch(() => null);
  if (!text) return null;
  const [pid, , , port, socketDir, listenAddress] = text.split("\n");
  return { pid: Number(pid), port: Number(port), socketDir, listenAddress };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("the embedded PostgreSQL in DATA_DIR", { timeout: 120_000 }, () => {
  const folders: string[] = [];
  const gateways: GatewayProcess[] = [];
  const newDataDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gw-embedded-"));
    folders.push(dir);
    return dir;
  };
  const start = async (env: Record<string, string>) => {
    const gateway = await startGatewayProcess({ ADMIN_API_KEY: ADMIN, ...env });
    gateways.push(gateway);
    return gateway;
  };
  afterEach(async () => {
    for (const gateway of gateways.splice(0)) await gateway.stop("SIGTERM");
  });
  afterAll(async () => {
    // A cluster a test left running (after a SIGKILL) is stopped with its folder.
    for (const dir of folders) {
      const server = await postmaster(dir);
      if (server && alive(server.pid)) process.kill(server.pid, "SIGINT");
      await eventually(async () => !(await postmaster(dir)) || !alive((await postmaster(dir))!.pid), {
        what: "the test's clusters stopped",
      }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("starts with the gateway on a socket in DATA_DIR, refuses a second gateway, survives SIGKILL, stops on SIGTERM", async () => {
    const dataDir = await newDataDir();
    const first = await start({ DATA_DIR: dataDir });
    expect(first.output()).toContain("initialised the embedded PostgreSQL");
    const server = (await postmaster(dataDir))!;
    // Nothing listens on TCP: the only way in is the socket inside DATA_DIR.
    expect(server.listenAddress).toBe("");
    expect(server.socketDir).toBe(path.join(dataDir, "postgres"));
    expect((await stat(path.join(server.socketDir!, `.s.PGSQL.${server.port}`))).isSocket()).toBe(true);
    const credentials = await stat(path.join(dataDir, "postgres", "gateway-credentials.json"));
    expect(credentials.mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dataDir, "postgres"))).mode & 0o777).toBe(0o700);

    // A second gateway on the same DATA_DIR: one line, and the first goes on.
    const refused = await runToCompletion("main.ts", [], { DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n")).toEqual([
      `gateway failed to start: another gateway (process ${first.child.pid}) is running on DATA_DIR ${dataDir}: stop it first, or give this one another DATA_DIR or a DATABASE_URL`,
    ]);
    const created = await graphql(
      first.url,
      'mutation { createOrg(input: { name: "Survivor" }) { ... on CreateOrgSuccess { apiKey } } }',
      ADMIN,
    );
    const apiKey = created.data?.createOrg?.apiKey as string;
    expect(apiKey).toMatch(/^cgw_key_/);

    // Killed: the server runs in a session of its own and goes on; the next gateway takes it over.
    await first.stop("SIGKILL");
    expect(alive(server.pid)).toBe(true);
    const second = await start({ DATA_DIR: dataDir });
    expect(second.output()).toContain(`is already running (process ${server.pid}): using it`);
    expect((await graphql(second.url, "{ viewer { name } }", apiKey)).data?.viewer?.name).toBe("Survivor");

    // Stopped: the gateway stops the server (pg_ctl returns once postmaster.pid is gone, a moment before
    // the process), and the next start finds the data where it was.
    expect(await second.stop("SIGTERM")).toBe(0);
    expect(await postmaster(dataDir)).toBeNull();
    await eventually(() => !alive(server.pid), { what: "the server process exited" });
    const third = await start({ DATA_DIR: dataDir });
    expect(third.output()).not.toMatch(/initialised|already running/);
    expect((await graphql(third.url, "{ viewer { name } }", apiKey)).data?.viewer?.name).toBe("Survivor");
    expect(first.output() + second.output() + third.output()).not.toContain(apiKey);
  });

  it("stops the cluster when shutdown runs past its deadline (a statement that never finishes)", async () => {
    const dataDir = await newDataDir();
    const gateway = await start({ DATA_DIR: dataDir });
    const server = (await postmaster(dataDir))!;
    const { user, password } = JSON.parse(
      await readFile(path.join(dataDir, "postgres", "gateway-credentials.json"), "utf8"),
    ) as { user: string; password: string };
    const blocker = new pg.Client({
      host: server.socketDir,
      port: server.port,
      user,
      password,
      database: "gateway",
    });
    blocker.on("error", () => {}); // the cluster's fast stop ends this session
    await blocker.connect();
    try {
      await blocker.query('BEGIN; LOCK TABLE "Org" IN ACCESS EXCLUSIVE MODE');
      const stuck = graphql(
        gateway.url,
        'mutation { createOrg(input: { name: "Stuck" }) { __typename } }',
        ADMIN,
      );
      stuck.catch(() => {}); // the gateway cuts it at the end of its grace period
      await eventually(
        async () =>
          Number((await blocker.query("SELECT count(*) FROM pg_locks WHERE NOT granted")).rows[0].count) > 0,
        { what: "the gateway's INSERT waiting on the lock" },
      );
      expect(await gateway.stop("SIGTERM")).toBe(1);
      expect(gateway.output()).toContain("shutdown did not finish within 20 s");
      expect(await postmaster(dataDir)).toBeNull();
      await eventually(() => !alive(server.pid), { what: "the server process exited" });
    } finally {
      await blocker.end().catch(() => {});
    }
  });

  it("starts and stops the cluster for a CLI command when no gateway runs", async () => {
    const dataDir = await newDataDir();
    const alone = await runToCompletion("cli.ts", ["migrate"], { DATA_DIR: dataDir });
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stdout).toContain("database is up to date (embedded)");
    expect(await postmaster(dataDir)).toBeNull();
  });

  it("runs as an ordinary user too (the server then runs as that user)", async () => {
    if (process.getuid?.() !== 0) return; // the suite itself runs as an ordinary user then
    const nobody = { name: "nobody", uid: 65534, gid: 65534 };
    const blocked = await unreachableParent(
      path.resolve(import.meta.dirname, "../../node_modules/.bin"),
      nobody,
    );
    if (blocked) {
      console.warn(`nobody cannot enter ${blocked}, above this checkout: the ordinary-user case is not run`);
      return;
    }
    const parent = await newDataDir();
    await chmod(parent, 0o711);
    const dataDir = path.join(parent, "data");
    await mkdir(dataDir);
    await chown(dataDir, nobody.uid, nobody.gid);
    const created = await runToCompletion(
      "cli.ts",
      ["org", "create", "--name", "Nobody", "--json"],
      { DATA_DIR: dataDir },
      nobody,
    );
    expect(created.code, created.stderr).toBe(0);
    expect((await stat(path.join(dataDir, "postgres"))).uid).toBe(65534);
  });
});

describe("the embedded PostgreSQL's failures, one line each, nothing deleted", { timeout: 120_000 }, () => {
  const folders: string[] = [];
  afterAll(async () => {
    for (const dir of folders) await rm(dir, { recursive: true, force: true });
  });
  const newDataDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gw-embedded-fail-"));
    folders.push(dir);
    return dir;
  };
  const failedStart = async (env: Record<string, string>) => {
    const result = await runToCompletion("main.ts", [], { PORT: "0", HOST: "127.0.0.1", ...env });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines, result.stderr).toHaveLength(1);
    return lines[0]!;
  };

  it("names a DATA_DIR that cannot be written", async () => {
    const parent = await newDataDir();
    const file = path.join(parent, "a-file");
    await writeFile(file, "not a folder");
    const line = await failedStart({
      DATA_DIR: path.join(file, "data"),
      ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    });
    expect(line).toMatch(
      /^gateway failed to start: DATA_DIR .*a-file\/data is not writable \(ENOTDIR\): .*DATABASE_URL/,
    );
  });

  it("names a cluster that will not start, with its log, and leaves its data", async () => {
    const dataDir = await newDataDir();
    const created = await runToCompletion("cli.ts", ["org", "create", "--name", "Kept", "--json"], {
      DATA_DIR: dataDir,
    });
    expect(created.code, created.stderr).toBe(0);
    const conf = path.join(dataDir, "postgres", "postgresql.conf");
    await writeFile(conf, `${await readFile(conf, "utf8")}\nshared_buffers = 'plenty'\n`);
    const line = await failedStart({ DATA_DIR: dataDir });
    expect(line).toMatch(
      /^gateway failed to start: the embedded PostgreSQL in .* did not start: invalid value for parameter "shared_buffers": "plenty"; configuration file .* contains errors \(see .*server\.log\)$/,
    );
    expect((await stat(path.join(dataDir, "postgres", "PG_VERSION"))).isFile()).toBe(true);
    expect((await stat(path.join(dataDir, "encryption.key"))).isFile()).toBe(true);
  });

  it("names a full disk", async () => {
    const parent = await newDataDir();
    await chmod(parent, 0o711);
    const small = path.join(parent, "small");
    await mkdir(small);
    try {
      await run("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", small]);
    } catch {
      console.warn("mount is not permitted here: the full-disk case is not run");
      return;
    }
    try {
      const line = await failedStart({
        DATA_DIR: path.join(small, "data"),
        ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
      });
      expect(line).toMatch(
        /^gateway failed to start: initialising the embedded PostgreSQL in .* failed: .*No space left on device/,
      );
    } finally {
      await run("umount", [small]);
    }
  });
});
