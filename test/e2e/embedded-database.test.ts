// The embedded default as a user meets it: `npm start`'s entry point on a DATA_DIR, with no DATABASE_URL.
// Each test starts gateway processes one after another (several seconds each on a loaded 2-core machine).
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { unreachableParent } from "../../src/db/embedded/server-user.ts";
import { eventually } from "../helpers/eventually.ts";
import { type GatewayProcess, runToCompletion, startGatewayProcess } from "../helpers/gateway-process.ts";

const ADMIN = "embedded-e2e-admin-key-abcdefghijklmnop";
const run = promisify(execFile);

async function graphql(url: string, query: string, key: string) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as {
    data?: { createOrg?: { apiKey: string }; viewer?: { name: string } };
    errors?: { message: string }[];
  };
}

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

  it("starts with the gateway on a socket in DATA_DIR, stops with it, and keeps the data for the next start", async () => {
    const dataDir = await newDataDir();
    let gateway = await start({ DATA_DIR: dataDir });
    expect(gateway.output()).toContain("initialised the embedded PostgreSQL");
    const server = (await postmaster(dataDir))!;
    // Nothing listens on TCP: the only way in is the socket inside DATA_DIR.
    expect(server.listenAddress).toBe("");
    expect(server.socketDir).toBe(path.join(dataDir, "postgres"));
    expect((await stat(path.join(server.socketDir!, `.s.PGSQL.${server.port}`))).isSocket()).toBe(true);
    const credentials = await stat(path.join(dataDir, "postgres", "gateway-credentials.json"));
    expect(credentials.mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dataDir, "postgres"))).mode & 0o777).toBe(0o700);

    const created = await graphql(
      gateway.url,
      'mutation { createOrg(input: { name: "Kept" }) { ... on CreateOrgSuccess { apiKey } } }',
      ADMIN,
    );
    const apiKey = created.data?.createOrg?.apiKey as string;
    expect(apiKey).toMatch(/^cgw_key_/);
    expect(await gateway.stop("SIGTERM")).toBe(0);
    // pg_ctl returns once the server removed postmaster.pid, a moment before its process is gone.
    expect(await postmaster(dataDir)).toBeNull();
    await eventually(() => !alive(server.pid), { what: "the server process exited" });

    gateway = await start({ DATA_DIR: dataDir });
    expect(gateway.output()).not.toContain("initialised");
    expect((await graphql(gateway.url, "{ viewer { name } }", apiKey)).data?.viewer?.name).toBe("Kept");
    expect(gateway.output()).not.toContain(apiKey);
  });

  it("reuses the cluster a killed gateway left running, with its data intact", async () => {
    const dataDir = await newDataDir();
    const first = await start({ DATA_DIR: dataDir });
    const created = await graphql(
      first.url,
      'mutation { createOrg(input: { name: "Survivor" }) { ... on CreateOrgSuccess { apiKey } } }',
      ADMIN,
    );
    const apiKey = created.data?.createOrg?.apiKey as string;
    const server = (await postmaster(dataDir))!;
    await first.stop("SIGKILL");
    // The server runs in a session of its own: killing the gateway does not kill it.
    expect(alive(server.pid)).toBe(true);

    const second = await start({ DATA_DIR: dataDir });
    expect(second.output()).toContain(`is already running (process ${server.pid}): using it`);
    expect((await graphql(second.url, "{ viewer { name } }", apiKey)).data?.viewer?.name).toBe("Survivor");
    // The gateway that took the cluster over stops it.
    expect(await second.stop("SIGTERM")).toBe(0);
    await eventually(() => !alive(server.pid), { what: "the server process exited" });
  });

  it("refuses a second gateway on the same DATA_DIR in one line, and the first goes on", async () => {
    const dataDir = await newDataDir();
    const first = await start({ DATA_DIR: dataDir });
    const second = await runToCompletion("main.ts", [], { DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" });
    expect(second.code).toBe(1);
    const lines = second.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `gateway failed to start: another gateway (process ${first.child.pid}) is running on DATA_DIR ${dataDir}: stop it first, or give this one another DATA_DIR or a DATABASE_URL`,
    );
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
  });

  it("runs CLI commands beside the gateway, and starts and stops the cluster for them when none runs", async () => {
    const dataDir = await newDataDir();
    const alone = await runToCompletion("cli.ts", ["migrate"], { DATA_DIR: dataDir });
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stdout).toContain("database is up to date (embedded)");
    expect(await postmaster(dataDir)).toBeNull();

    const gateway = await start({ DATA_DIR: dataDir });
    const created = await runToCompletion("cli.ts", ["org", "create", "--name", "From the CLI", "--json"], {
      DATA_DIR: dataDir,
    });
    expect(created.code, created.stderr).toBe(0);
    const { apiKey } = JSON.parse(created.stdout) as { apiKey: string };
    expect((await graphql(gateway.url, "{ viewer { name } }", apiKey)).data?.viewer?.name).toBe(
      "From the CLI",
    );
    // The command left the gateway's cluster running.
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
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
    await writeFile(conf, (await readFile(conf, "utf8")).replace("shared_buffers = 'plenty'", ""));
    const listed = await runToCompletion("cli.ts", ["migrate"], { DATA_DIR: dataDir });
    expect(listed.code, listed.stderr).toBe(0);
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
