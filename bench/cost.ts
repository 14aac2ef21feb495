/**
 * What the gateway costs to run, as deployed (issue 20 item 6): the real entry point
 * (`npm start`: the build step, then `node build/server/main.mjs`; NODE_ENV=production, default logging, a fresh DATA_DIR, no
 * DATABASE_URL: the embedded database) against the project's Stripe emulator in another process.
 * Memory is the sum over the gateway's process tree and every process of its PostgreSQL cluster (RSS, and
 * PSS, which divides shared pages — PostgreSQL's shared buffers — among the processes that share them).
 *
 *   npx tsx bench/cost.ts [checkout …]   this checkout by default; another checkout (e.g. a `git worktree`
 *                                        of an older commit, with its node_modules) runs its own src/main.ts
 * npm run bench runs it on this checkout too (bench/run.ts). Settings (environment):
 *   BENCH_COST_ACCOUNTS (200), BENCH_COST_CONCURRENCY (8 connects at a time), BENCH_COST_SETTLE_SECONDS (10),
 *   BENCH_COST_POLL_SECONDS (30, the CPU window), BENCH_COST_SYNC_INTERVAL (5, SYNC_INTERVAL_SECONDS),
 *   BENCH_COST_WAIT_SECONDS (600: from the first connect, for all READY and then every sync state done),
 *   BENCH_COST_CPU_PROF=1: the second start runs with --cpu-prof, and the poll window's samples are
 *   summarised (profiling slows the gateway: its figures are then not the ones to report).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, openSync } from "node:fs";
import { chmod, copyFile, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { startCluster } from "../src/db/embedded/cluster.ts";
import { type Child, startChild } from "./child.ts";
import { type ProfileSummary, summariseProfile } from "./cpu-profile.ts";
import { cpuMs, isAlive, type Memory, memoryOf, processTree, threadCpuMs } from "./proc.ts";
import type { EmulatorCounts, EmulatorInfo } from "./servers/stripe-emulator.ts";

const num = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

export const costSettings = {
  accounts: num("BENCH_COST_ACCOUNTS", 200),
  concurrency: num("BENCH_COST_CONCURRENCY", 8),
  settleSeconds: num("BENCH_COST_SETTLE_SECONDS", 10),
  pollSeconds: num("BENCH_COST_POLL_SECONDS", 30),
  syncIntervalSeconds: num("BENCH_COST_SYNC_INTERVAL", 5),
  /** How long to wait, from the first connect, for all READY and then for every sync state to be done */
  waitSeconds: num("BENCH_COST_WAIT_SECONDS", 600),
  cpuProfile: process.env.BENCH_COST_CPU_PROF === "1",
} as const;

/** A gateway that answers nothing for this long is stuck, not slow (undici's default is 300 s). */
const ANSWER_TIMEOUT_MS = 120_000;
const THIS_CHECKOUT = path.resolve(import.meta.dirname, "..");
/** `npm start`'s prestart, in a checkout that has one */
const BUILD_SCRIPT = "scripts/build-server.mjs";
const ADMIN_KEY = "bench-cost-admin-key-0123456789abcdef";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (since: number) => (performance.now() - since) / 1000;
/** process.hrtime in microseconds: the clock V8 stamps profile samples with. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export type Cost = {
  checkout: string;
  commit: string;
  /** What the gateway said it runs on (`database` of its listening log line) */
  database: string;
  firstStartSeconds: number;
  laterStartSeconds: number;
  /** SIGTERM to exit, after the idle period (the cluster stopped with it) */
  stopSeconds: number;
  /** Gateway CPU per second idle without an org (timers: sync ticks, pruning, webhook dispatcher), over
   * the second half of the settle period */
  idleCpuMsPerSecond: number;
  idleMemory: Memory;
  /** The gateway's log lines of the first and the later start, in milliseconds after its spawn */
  startSteps: string[][];
  /** The figures with connected accounts, or null when that part failed (then `loadFailure` says how) */
  loaded: Loaded | null;
  loadFailure: LoadFailure | null;
  load: { before: number; after: number };
  totalSeconds: number;
  /** What went wrong without stopping the measurement (a cluster left running) */
  problems: string[];
};

export type Loaded = {
  readyMemory: Memory;
  connect: {
    accounts: number;
    ready: number;
    concurrency: number;
    /** From the first startStripeConnection until every connection is READY */
    seconds: number;
    /** Callbacks the gateway answered 429 (its per-org OAuth limit), retried after Retry-After */
    limited: number;
    /** Callbacks answered 502 (the token exchange with the emulator failed) or not at all, connected again
     * from the start */
    failed: number;
    /** Until no sync state is pending or running (the per-parent lists after READY) */
    linkedSeconds: number | null;
    /** From the first startStripeConnection until all are READY */
    toReady: Phase;
    /** From all READY until every sync state is done (or the wait ends) */
    toLinked: Phase;
  };
  poll: Phase;
  /** With BENCH_COST_CPU_PROF=1: where the gateway's main thread spent the two windows */
  profile?: { toReady: ProfileSummary; poll: ProfileSummary };
};

/** Where the connect phase failed, and what the gateway was doing then. */
export type LoadFailure = {
  error: string;
  /** From the first startStripeConnection */
  afterSeconds: number;
  /** Callbacks the gateway had answered with success */
  callbacks: number;
  memory: Memory;
  /** Gateway CPU per second over 5 s after the failure: busy, or waiting */
  gatewayCpuMsPerSecond: number;
};

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

type Gateway = { pid: number; child: ChildProcess; exited: Promise<void> };

/** What a stretch of the run cost: CPU of each process group, and the requests the emulator answered. */
export type Phase = {
  seconds: number;
  gatewayCpuMs: number;
  /** The cluster's processes (exited backends included); 0 without a cluster */
  clusterCpuMs: number;
  /** The Stripe emulator (on the same cores here; Stripe's own servers in a deployment) */
  emulatorCpuMs: number;
  /** /v1/events requests: one per poll of a connection */
  polls: number;
  balanceReads: number;
  /** Every other API request (lists, the account, OAuth tokens) */
  otherRequests: number;
  /** Transactions committed or rolled back in the gateway's database (pg_stat_database); null: no cluster */
  transactions: number | null;
  /** The gateway process's CPU by thread name (main thread: its command name, `node`) */
  gatewayThreadsMs: Record<string, number>;
};
type Snapshot = {
  at: number;
  us: number;
  gateway: number;
  threads: Record<string, number>;
  transactions: number | null;
  cluster: number;
  emulator: number;
  counts: EmulatorCounts;
};

async function graphql<T>(url: string, key: string, query: string, variables: object = {}): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: T; errors?: unknown };
  if (!response.ok || result.errors || !result.data)
    throw new Error(`${query.slice(0, 60)}…: ${response.status} ${JSON.stringify(result).slice(0, 300)}`);
  return result.data;
}

/** Every connection of the org, 100 a page. */
async function connections<T>(url: string, key: string, fields: string): Promise<T[]> {
  const nodes: T[] = [];
  let after: string | null = null;
  for (;;) {
    const page: {
      stripeConnections: { edges: { node: T }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
    } = await graphql(
      url,
      key,
      `query($after: String) { stripeConnections(first: 100, after: $after) { edges { node { ${fields} } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    nodes.push(...page.stripeConnections.edges.map((edge) => edge.node));
    if (!page.stripeConnections.pageInfo.hasNextPage) return nodes;
    after = page.stripeConnections.pageInfo.endCursor;
  }
}

/** Measures one checkout's gateway; `log` reports progress. */
export async function measureCost(
  checkout = THIS_CHECKOUT,
  log: (message: string) => void = console.log,
): Promise<Cost> {
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", ["-C", checkout, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    } catch {
      return "unknown";
    }
  };
  const commit = git("rev-parse", "--short", "HEAD");
  const root = await mkdtemp(path.join(tmpdir(), "gw-cost-"));
  // Root runs the embedded cluster as the OS user postgres, which has to pass through to DATA_DIR.
  await chmod(root, 0o711);
  const dataDir = path.join(root, "data");
  const logFile = path.join(root, "gateway.log");
  const profileDir = path.join(root, "profile");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let emulator: Child<EmulatorInfo> | null = null;
  let gateway: Gateway | null = null;

  const clusterPostmaster = async (): Promise<number | null> => {
    const text = await readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").catch(() => null);
    const pid = Number(text?.split("\n")[0]);
    return pid && isAlive(pid) ? pid : null;
  };
  /** The gateway's process tree and the cluster's (its postmaster runs detached, in its own session). */
  const groups = async () => {
    const postmaster = await clusterPostmaster();
    return {
      gateway: gateway ? await processTree([gateway.pid]) : [],
      cluster: postmaster ? await processTree([postmaster]) : [],
      postmaster,
    };
  };
  const memory = async (): Promise<Memory> => {
    const { gateway: own, cluster } = await groups();
    return memoryOf([...new Set([...own, ...cluster])]);
  };

  /** Transactions of the gateway's database so far, over a short-lived connection of this process. */
  const transactions = async (): Promise<number | null> => {
    const { connection } = await startCluster({ dataDir, log: () => {} });
    const client = new pg.Client(connection);
    try {
      await client.connect();
      const { rows } = await client.query<{ n: string }>(
        "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()",
      );
      return Number(rows[0]?.n);
    } catch {
      return null;
    } finally {
      await client.end().catch(() => {});
    }
  };
  const snapshot = async (): Promise<Snapshot> => {
    const { cluster, postmaster } = await groups();
    return {
      at: performance.now(),
      us: monotonicUs(),
      gateway: gateway ? await cpuMs([gateway.pid]) : 0,
      threads: gateway ? await threadCpuMs(gateway.pid) : {},
      transactions: postmaster ? await transactions() : null,
      cluster: await cpuMs(cluster, postmaster ? [postmaster] : []),
      emulator: await cpuMs([emulator!.info.pid]),
      counts: await emulator!.call<EmulatorCounts>("counts"),
    };
  };
  const phase = (from: Snapshot, to: Snapshot): Phase => ({
    seconds: (to.at - from.at) / 1000,
    gatewayCpuMs: to.gateway - from.gateway,
    clusterCpuMs: to.cluster - from.cluster,
    emulatorCpuMs: to.emulator - from.emulator,
    polls: to.counts.events - from.counts.events,
    balanceReads: to.counts.balance - from.counts.balance,
    otherRequests: to.counts.other + to.counts.oauth - from.counts.other - from.counts.oauth,
    transactions:
      to.transactions === null || from.transactions === null ? null : to.transactions - from.transactions,
    gatewayThreadsMs: Object.fromEntries(
      Object.entries(to.threads).map(([name, ms]) => [name, ms - (from.threads[name] ?? 0)]),
    ),
  });

  // `npm start`: the bundle build/server/main.mjs, built before each start; a checkout before it: src/ through tsx.
  const bundled = existsSync(path.join(checkout, BUILD_SCRIPT));
  const entry = bundled
    ? [path.join(checkout, "build/server/main.mjs")]
    : ["--import", "tsx", path.join(checkout, "src/main.ts")];

  /** The log lines of a start, as milliseconds after the spawn: where its time went. */
  const startSteps: string[][] = [];
  const startGateway = async (profile: boolean): Promise<number> => {
    const logOffset = (await readFile(logFile, "utf8").catch(() => "")).length;
    const out = openSync(logFile, "a");
    const spawnedAt = Date.now();
    const began = performance.now();
    // What `npm start` runs first (its prestart), when the checkout has it: part of the start's time.
    if (bundled) execFileSync(process.execPath, [BUILD_SCRIPT], { cwd: checkout, stdio: "ignore" });
    const child = spawn(
      process.execPath,
      [...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), ...entry],
      {
        cwd: checkout,
        // As deployed: only its settings (no LOG_LEVEL: the default, info), nothing of this process's env.
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_ENV: "production",
          HOST: "127.0.0.1",
          PORT: String(port),
          PUBLIC_URL: url,
          DATA_DIR: dataDir,
          ADMIN_API_KEY: ADMIN_KEY,
          STRIPE_API_URL: emulator!.info.url,
          STRIPE_CONNECT_URL: emulator!.info.url,
          STRIPE_MARKETPLACE_URL: emulator!.info.url,
          SYNC_INTERVAL_SECONDS: String(costSettings.syncIntervalSeconds),
        },
        stdio: ["ignore", out, out],
      },
    );
    closeSync(out);
    let exit: string | null = null;
    const exited = new Promise<void>((resolve) =>
      child.once("exit", (code, signal) => {
        exit = signal ?? `code ${code}`;
        resolve();
      }),
    );
    gateway = { pid: child.pid!, child, exited };
    for (;;) {
      const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })
        .then((response) => response.status === 200)
        .catch(() => false);
      if (ok) {
        const took = seconds(began);
        const lines = (await readFile(logFile, "utf8")).slice(logOffset).split("\n").filter(Boolean);
        startSteps.push(
          lines.flatMap((line) => {
            try {
              const entry = JSON.parse(line) as { time?: number; msg?: string };
              return entry.time && entry.msg
                ? [`+${entry.time - spawnedAt} ms ${entry.msg.slice(0, 90)}`]
                : [];
            } catch {
              return [];
            }
          }),
        );
        return took;
      }
      if (exit !== null || seconds(began) > 120) {
        const tail = (await readFile(logFile, "utf8")).split("\n").slice(-10).join("\n");
        throw new Error(
          `the gateway ${exit === null ? "did not answer /healthz in 120 s" : `exited (${exit})`}:\n${tail}`,
        );
      }
      await sleep(20);
    }
  };
  /** What went wrong without stopping the measurement */
  const problems: string[] = [];
  /** SIGTERM, as an orchestrator stops it: the gateway stops its cluster, then exits. */
  const stopGateway = async (): Promise<number> => {
    if (!gateway) return 0;
    const { postmaster } = await groups();
    const began = performance.now();
    const current = gateway;
    if (current.child.exitCode === null && current.child.signalCode === null) current.child.kill("SIGTERM");
    const forced = setTimeout(() => current.child.kill("SIGKILL"), 30_000);
    await current.exited;
    clearTimeout(forced);
    const took = seconds(began);
    gateway = null;
    // pg_ctl stop returns once the pid file is gone; the postmaster's last moments may come just after.
    for (let waited = 0; postmaster && isAlive(postmaster) && waited < 5000; waited += 50) await sleep(50);
    if (postmaster && isAlive(postmaster)) {
      // Left behind (the gateway gave up on its shutdown): stopped here, fast, before its folder goes.
      process.kill(postmaster, "SIGINT");
      for (let waited = 0; isAlive(postmaster) && waited < 20_000; waited += 100) await sleep(100);
      const last = (await readFile(logFile, "utf8")).split("\n").filter(Boolean).at(-1) ?? "";
      problems.push(
        `the cluster (postmaster ${postmaster}) was still running 5 s after the gateway exited; the gateway's last log line: ${last.slice(0, 200)}`,
      );
      log(`cost: ${problems.at(-1)}`);
    }
    return took;
  };

  try {
    log(`cost: Stripe emulator with ${costSettings.accounts} small accounts (its own process)`);
    emulator = await startChild<EmulatorInfo>("stripe-emulator.ts", {
      BENCH_EMULATOR_ACCOUNTS: String(costSettings.accounts),
      BENCH_EMULATOR_SIZE: "small",
      BENCH_EMULATOR_REDIRECT_URI: `${url}/stripe/proxy/*`,
    });
    const emulatorUrl = emulator.info.url;

    // A deployed gateway has run before: tsx's transform cache and the dashboard build are not what the
    // first start on a fresh DATA_DIR is about. An invalid PORT loads every module, then stops.
    try {
      if (bundled) execFileSync(process.execPath, [BUILD_SCRIPT], { cwd: checkout, stdio: "ignore" });
      execFileSync(process.execPath, entry, {
        cwd: checkout,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: "invalid" },
        stdio: "ignore",
      });
    } catch {
      // exits 1 on the invalid PORT, as meant
    }
    try {
      execFileSync(process.execPath, ["--import", "tsx", "scripts/build-dashboard.ts"], {
        cwd: checkout,
        stdio: "ignore",
      });
    } catch {
      log("cost: the dashboard could not be built beforehand (the first start builds it)");
    }

    log(`cost: first start on a fresh DATA_DIR (${commit})`);
    const firstStartSeconds = await startGateway(false);
    const listening = (await readFile(logFile, "utf8"))
      .split("\n")
      .find((line) => line.includes('"gateway listening'));
    const database = listening
      ? String((JSON.parse(listening) as { database?: string }).database)
      : "unknown";
    if ((await readFile(logFile, "utf8")).includes('"dashboard built"'))
      log("cost: the first start built the dashboard (included in its time)");
    // Idle CPU over the second half of the settle period (the first still has start-up work in it).
    await sleep((costSettings.settleSeconds * 1000) / 2);
    const idleFrom = await cpuMs([gateway!.pid]);
    await sleep((costSettings.settleSeconds * 1000) / 2);
    const idleCpuMsPerSecond = ((await cpuMs([gateway!.pid])) - idleFrom) / (costSettings.settleSeconds / 2);
    const idleMemory = await memory();
    const stopSeconds = await stopGateway();

    log("cost: later start on the same DATA_DIR");
    const laterStartSeconds = await startGateway(costSettings.cpuProfile);
    const { createOrg } = await graphql<{ createOrg: { apiKey?: string } }>(
      url,
      ADMIN_KEY,
      'mutation { createOrg(input: { name: "Cost" }) { ... on CreateOrgSuccess { apiKey } } }',
    );
    const apiKey = createOrg.apiKey!;
    const configured = await graphql<{ setStripeConfig: { __typename: string } }>(
      url,
      apiKey,
      "mutation($input: SetStripeConfigInput!) { setStripeConfig(input: $input) { __typename } }",
      { input: { clientId: emulator.info.clientId, secretKey: emulator.info.secretKey } },
    );
    if (configured.setStripeConfig.__typename !== "SetStripeConfigSuccess")
      throw new Error(`setStripeConfig: ${configured.setStripeConfig.__typename}`);

    // The connect phase and what follows; on a failure, what was measured before it still counts.
    let connectStarted = performance.now();
    let callbacks = 0;
    const measureLoaded = async (): Promise<Loaded> => {
      log(
        `cost: ${costSettings.accounts} OAuth connects, ${costSettings.concurrency} at a time, until all are READY`,
      );
      // The emulator approves for the account chosen last (POST /_emulator/oauth): choosing and following
      // the authorize URL go one at a time; the rest of each connect (the gateway's callback) runs in parallel.
      let authorizing: Promise<unknown> = Promise.resolve();
      const oneAtATime = <T>(step: () => Promise<T>): Promise<T> => {
        const run = authorizing.then(step);
        authorizing = run.catch(() => {});
        return run;
      };
      let limited = 0;
      let failed = 0;
      const connect = async (accountId: string): Promise<void> => {
        const { startStripeConnection } = await graphql<{
          startStripeConnection: { authorizationUrl?: string };
        }>(
          url,
          apiKey,
          "mutation { startStripeConnection { ... on StartStripeConnectionSuccess { authorizationUrl } } }",
        );
        const callback = await oneAtATime(async () => {
          await fetch(`${emulatorUrl}/_emulator/oauth`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ next_account: accountId }),
          }).then((response) => response.arrayBuffer());
          const atStripe = await fetch(startStripeConnection.authorizationUrl!, { redirect: "manual" });
          await atStripe.arrayBuffer();
          const location = atStripe.headers.get("location");
          if (atStripe.status !== 302 || !location) throw new Error(`authorize answered ${atStripe.status}`);
          return location;
        });
        // The merchant's browser lands on the gateway: it redeems the code and starts the backfill.
        for (;;) {
          // No answer at all (the connection dropped, as a keep-alive socket the gateway closed while its
          // event loop was busy): the merchant starts again, as after a 502.
          const landed = await fetch(callback, {
            redirect: "manual",
            signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
          }).catch((error: Error) => {
            if (error.name === "TimeoutError")
              throw new Error(`the OAuth callback got no answer in ${ANSWER_TIMEOUT_MS / 1000} s`);
            return null;
          });
          if (!landed && failed < costSettings.accounts) {
            failed++;
            return connect(accountId);
          }
          if (!landed) throw new Error("the OAuth callback was not answered");
          await landed.arrayBuffer();
          if (landed.status === 429) {
            limited++;
            await sleep(Number(landed.headers.get("retry-after") ?? 1) * 1000);
            continue;
          }
          // "Stripe could not be reached" (its token endpoint did not answer in time): the merchant starts again.
          if (landed.status === 502 && failed < costSettings.accounts) {
            failed++;
            return connect(accountId);
          }
          if (landed.status >= 400) throw new Error(`the OAuth callback answered ${landed.status}`);
          callbacks++;
          return;
        }
      };
      const accounts = emulator!.info.accountIds.slice(0, costSettings.accounts);
      connectStarted = performance.now();
      const connectFrom = await snapshot();
      let next = 0;
      await Promise.all(
        Array.from({ length: costSettings.concurrency }, async () => {
          while (next < accounts.length) await connect(accounts[next++]!);
        }),
      );
      log(`cost: ${accounts.length} callbacks answered after ${seconds(connectStarted).toFixed(1)} s`);
      let ready = 0;
      let connectSeconds = Number.NaN;
      while (seconds(connectStarted) < costSettings.waitSeconds) {
        const nodes = await connections<{ status: string }>(url, apiKey, "status");
        ready = nodes.filter((node) => node.status === "READY").length;
        if (ready === accounts.length) {
          connectSeconds = seconds(connectStarted);
          break;
        }
        await sleep(250);
      }
      const readyAt = await snapshot();
      log(`cost: ${ready} of ${accounts.length} READY after ${seconds(connectStarted).toFixed(1)} s`);

      // Idle polling is what the rest is about: wait for the per-parent lists that follow READY.
      let linkedSeconds: number | null = null;
      while (seconds(connectStarted) < costSettings.waitSeconds) {
        const nodes = await connections<{ syncStates: { status: string }[] }>(
          url,
          apiKey,
          "syncStates { status }",
        );
        const busy = nodes
          .flatMap((node) => node.syncStates)
          .filter((s) => s.status === "pending" || s.status === "running");
        if (busy.length === 0) {
          linkedSeconds = seconds(connectStarted);
          break;
        }
        await sleep(1000);
      }
      const linkedAt = await snapshot();
      log(
        linkedSeconds === null
          ? `cost: sync states still pending or running after ${seconds(connectStarted).toFixed(1)} s: the poll window has their work in it`
          : `cost: every sync state done after ${linkedSeconds.toFixed(1)} s`,
      );
      await sleep(costSettings.settleSeconds * 1000);
      const readyMemory = await memory();

      log(
        `cost: ${costSettings.pollSeconds} s of idle polls (SYNC_INTERVAL_SECONDS=${costSettings.syncIntervalSeconds})`,
      );
      const windowFrom = await snapshot();
      await sleep(costSettings.pollSeconds * 1000);
      const windowTo = await snapshot();
      await stopGateway();

      let profile: Loaded["profile"];
      if (costSettings.cpuProfile) {
        const file = (await readdir(profileDir)).find((name) => name.endsWith(".cpuprofile"));
        if (file) {
          const summarise = (from: Snapshot, to: Snapshot) =>
            summariseProfile(path.join(profileDir, file), from.us, to.us);
          profile = {
            toReady: await summarise(connectFrom, readyAt),
            poll: await summarise(windowFrom, windowTo),
          };
        }
      }
      return {
        readyMemory,
        connect: {
          accounts: accounts.length,
          ready,
          concurrency: costSettings.concurrency,
          seconds: connectSeconds,
          limited,
          failed,
          linkedSeconds,
          toReady: phase(connectFrom, readyAt),
          toLinked: phase(readyAt, linkedAt),
        },
        poll: phase(windowFrom, windowTo),
        profile,
      };
    };
    let loaded: Loaded | null = null;
    let loadFailure: LoadFailure | null = null;
    try {
      loaded = await measureLoaded();
    } catch (error) {
      const afterSeconds = seconds(connectStarted);
      const message =
        error instanceof Error ? `${error.message}${error.cause ? ` (${error.cause})` : ""}` : String(error);
      log(`cost: the connect phase failed after ${afterSeconds.toFixed(0)} s: ${message}`);
      const kept = path.join(tmpdir(), `gw-cost-failed-${Date.now()}.log`);
      await copyFile(logFile, kept).catch(() => {});
      log(`cost: the gateway's log is kept in ${kept}`);
      const pid = (gateway as Gateway | null)?.pid;
      const from = pid ? await cpuMs([pid]) : 0;
      await sleep(5000);
      loadFailure = {
        error: message,
        afterSeconds,
        callbacks,
        memory: await memory(),
        gatewayCpuMsPerSecond: pid ? ((await cpuMs([pid])) - from) / 5 : 0,
      };
    }
    return {
      checkout,
      commit,
      database,
      firstStartSeconds,
      laterStartSeconds,
      stopSeconds,
      idleCpuMsPerSecond,
      startSteps,
      idleMemory,
      loaded,
      loadFailure,
      load: { before: loadBefore, after: loadavg()[0]! },
      totalSeconds: seconds(started),
      problems,
    };
  } catch (error) {
    // The gateway's log says why (its errors are logged, not returned): kept beside the temporary folder.
    const kept = path.join(tmpdir(), `gw-cost-failed-${Date.now()}.log`);
    await copyFile(logFile, kept).catch(() => {});
    log(`cost: failed; the gateway's log is kept in ${kept}`);
    throw error;
  } finally {
    await stopGateway().catch((error) => log(`cost: stopping the gateway: ${error}`));
    await emulator?.stop();
    await rm(root, { recursive: true, force: true });
  }
}

const mb = (kb: number) => `${Math.round(kb / 1024)} MB`;
const met = (ok: boolean) => (ok ? "met" : "**not met**");

/** The figures of issue 20 item 6 beside their targets, one column per measured checkout. */
export function costTable(costs: Cost[]): string {
  /** A figure with connected accounts, or why there is none */
  const loadedCell = (c: Cost, cell: (loaded: Loaded) => string) =>
    c.loaded
      ? cell(c.loaded)
      : `none: the connects failed after ${c.loadFailure!.afterSeconds.toFixed(0)} s (${c.loadFailure!.callbacks} of ${costSettings.accounts} connected) — **not met**`;
  const rows: { figure: string; target: string; cell(cost: Cost): string }[] = [
    {
      figure: "resident memory, idle, no org (gateway + all its database processes): PSS (sum of RSS)",
      target: "≤ 200 MB",
      cell: (c) =>
        `${mb(c.idleMemory.pssKb)} (${mb(c.idleMemory.rssKb)}), ${c.idleMemory.processes.length} processes — ${met(c.idleMemory.pssKb <= 200 * 1024)}`,
    },
    {
      figure: `resident memory, ${costSettings.accounts} READY connections: PSS (sum of RSS)`,
      target: "≤ 300 MB",
      cell: (c) =>
        loadedCell(
          c,
          ({ readyMemory: m }) =>
            `${mb(m.pssKb)} (${mb(m.rssKb)}), ${m.processes.length} processes — ${met(m.pssKb <= 300 * 1024)}`,
        ),
    },
    {
      figure: "first start to GET /healthz 200 (fresh DATA_DIR)",
      target: "≤ 5 s",
      cell: (c) => `${c.firstStartSeconds.toFixed(2)} s — ${met(c.firstStartSeconds <= 5)}`,
    },
    {
      figure: "later start (same DATA_DIR, after a clean stop)",
      target: "≤ 3 s",
      cell: (c) => `${c.laterStartSeconds.toFixed(2)} s — ${met(c.laterStartSeconds <= 3)}`,
    },
    {
      figure: "gateway CPU per idle poll of one connection (/v1/events + balance)",
      target: "≤ 2 ms",
      cell: (c) =>
        loadedCell(c, ({ poll, connect }) => {
          const perPoll = poll.gatewayCpuMs / poll.polls;
          const what = `${perPoll.toFixed(2)} ms (${poll.polls} polls in ${poll.seconds.toFixed(0)} s; the cluster ${(poll.clusterCpuMs / poll.polls).toFixed(2)} ms more)`;
          return connect.linkedSeconds === null
            ? `${what} — not idle: sync states were still running`
            : `${what} — ${met(perPoll <= 2)}`;
        }),
    },
    {
      figure: `${costSettings.accounts} accounts: OAuth connect + READY (${costSettings.concurrency} at a time)`,
      target: "≤ 45 s",
      cell: (c) =>
        loadedCell(c, ({ connect }) =>
          connect.ready === connect.accounts
            ? `${connect.seconds.toFixed(1)} s — ${met(connect.seconds <= 45)}`
            : `${connect.ready} of ${connect.accounts} READY after ${costSettings.waitSeconds} s — **not met**`,
        ),
    },
  ];
  const name = (c: Cost) => `${c.database} (${c.commit})`;
  return [
    `| figure | target | ${costs.map(name).join(" | ")} |`,
    `| --- | --- | ${costs.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.figure} | ${row.target} | ${costs.map((c) => row.cell(c)).join(" | ")} |`),
  ].join("\n");
}

const describePhase = (p: Phase) => {
  const requests = p.polls + p.balanceReads + p.otherRequests;
  const threads = Object.entries(p.gatewayThreadsMs)
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${Math.round(ms)}`)
    .join(", ");
  return (
    `${p.seconds.toFixed(0)} s, ${requests} Stripe requests (${p.polls} /v1/events, ${p.balanceReads} /v1/balance)` +
    `${p.transactions === null ? "" : `, ${p.transactions} database transactions`}; CPU: gateway ` +
    `${Math.round(p.gatewayCpuMs)} ms (${(p.gatewayCpuMs / (requests || 1)).toFixed(1)} ms per request; by thread: ${threads}), cluster ` +
    `${Math.round(p.clusterCpuMs)} ms, emulator ${Math.round(p.emulatorCpuMs)} ms`
  );
};

/** How each figure was taken, and what else the run saw. */
export function costNotes(costs: Cost[]): string {
  const lines = [
    "How: the gateway as deployed (`npm start`: its build step `node scripts/build-server.mjs`, timed with the start, then `node build/server/main.mjs`; NODE_ENV=production, default logging, no DATABASE_URL,",
    `a fresh DATA_DIR) against the Stripe emulator in its own process (${costSettings.accounts} small accounts, 25 requests/s per account),`,
    "on the same cores. Before the first start, the entry point ran once with an invalid PORT (tsx's transform cache, in a checkout without a build step) and the",
    "dashboard was built: the start times are the database's and the gateway's, not a first install's. Memory: the gateway's",
    "process tree plus every process of its cluster (from postmaster.pid), PSS (smaps_rollup: shared pages divided among the",
    `processes sharing them) and the sum of VmRSS (shared pages once per process); idle: ${costSettings.settleSeconds} s after /healthz`,
    `answered, without an org; READY: ${costSettings.settleSeconds} s after every sync state is done, polls running (SYNC_INTERVAL_SECONDS=${costSettings.syncIntervalSeconds}).`,
    `Connects: ${costSettings.concurrency} at a time (startStripeConnection, the emulator's authorize redirect, then the gateway's callback;`,
    "a 429 of the org's OAuth limit is retried after its Retry-After, a 502 or no answer from the start), timed from the first",
    "startStripeConnection until every connection is READY (checked every 250 ms). Poll CPU: the gateway process's utime+stime",
    `(all threads) over ${costSettings.pollSeconds} s ÷ the /v1/events requests the emulator answered in that window: all of the`,
    "gateway's CPU, its timers included, once every sync state is done; the cluster's CPU is given beside it.",
  ];
  for (const c of costs) {
    lines.push(
      `- ${c.database} (${c.commit}): idle, the gateway used ${c.idleCpuMsPerSecond.toFixed(1)} ms CPU/s; idle processes: ${describeProcesses(c.idleMemory)}; stop after idle ${c.stopSeconds.toFixed(2)} s.`,
    );
    if (c.loaded) {
      const { readyMemory, connect, poll } = c.loaded;
      lines.push(
        `  At ${costSettings.accounts} READY: ${describeProcesses(readyMemory)}.`,
        `  Connect to READY: ${describePhase(connect.toReady)}; ${connect.limited} callbacks answered 429 and were retried; ${connect.failed} answered 502 (Stripe could not be reached) or not at all, and were connected again from startStripeConnection.`,
        `  READY to every sync state done${connect.linkedSeconds === null ? " (not reached)" : ""}: ${describePhase(connect.toLinked)}.`,
        `  Poll window: ${describePhase(poll)}.`,
      );
    }
    if (c.loadFailure) {
      const f = c.loadFailure;
      lines.push(
        `  The connects failed after ${f.afterSeconds.toFixed(0)} s, ${f.callbacks} of ${costSettings.accounts} connected: ${f.error}; then ${describeProcesses(f.memory)} (${mb(f.memory.pssKb)} PSS), the gateway using ${Math.round(f.gatewayCpuMsPerSecond)} ms CPU/s.`,
      );
    }
    lines.push(
      ...c.startSteps.map(
        (steps, i) =>
          `  ${i === 0 ? "First" : "Later"} start, the gateway's log: ${steps.join("; ") || "nothing"}.`,
      ),
      ...c.problems.map((problem) => `  Problem: ${problem}.`),
      `  Load average ${c.load.before.toFixed(1)} at the start, ${c.load.after.toFixed(1)} at the end; ${c.totalSeconds.toFixed(0)} s in all.`,
    );
  }
  return lines.join("\n");
}

function describeProcesses(memory: Memory): string {
  const groups = new Map<string, { count: number; pssKb: number }>();
  for (const p of memory.processes) {
    const name = p.name.startsWith("postgres") ? "postgres" : p.name;
    const group = groups.get(name) ?? { count: 0, pssKb: 0 };
    groups.set(name, { count: group.count + 1, pssKb: group.pssKb + p.pssKb });
  }
  return [...groups].map(([name, g]) => `${name} ×${g.count} ${mb(g.pssKb)} PSS`).join(", ");
}

export function profileText(cost: Cost): string {
  if (!cost.loaded?.profile) return "";
  const { profile, poll, connect } = cost.loaded;
  const part = (title: string, summary: ProfileSummary, per: number, unit: string) => {
    const each = (ms: number) => `${(ms / (per || 1)).toFixed(3)} ms/${unit}`;
    return [
      `${title}: ${Math.round(summary.busyMs)} ms busy of ${Math.round(summary.sampledMs)} ms sampled, ${each(summary.busyMs)}`,
      "  self time by place:",
      ...summary.byPlace
        .slice(0, 20)
        .map((entry) => `    ${entry.place}: ${Math.round(entry.ms)} ms, ${each(entry.ms)}`),
      "  the gateway's own functions, inclusive:",
      ...summary.ownInclusive
        .slice(0, 25)
        .map((entry) => `    ${entry.fn}: ${Math.round(entry.ms)} ms, ${each(entry.ms)}`),
    ].join("\n");
  };
  const toReady = connect.toReady;
  return [
    `CPU profile of the gateway (${cost.database}, ${cost.commit}; --cpu-prof, main thread)`,
    part("poll window", profile.poll, poll.polls, "poll"),
    part(
      "connect to READY",
      profile.toReady,
      toReady.polls + toReady.balanceReads + toReady.otherRequests,
      "Stripe request",
    ),
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const checkouts = process.argv.slice(2).map((dir) => path.resolve(dir));
  const costs: Cost[] = [];
  for (const checkout of checkouts.length > 0 ? checkouts : [THIS_CHECKOUT])
    costs.push(await measureCost(checkout));
  console.log(`\n${costTable(costs)}\n\n${costNotes(costs)}\n`);
  for (const cost of costs) if (cost.loaded?.profile) console.log(`${profileText(cost)}\n`);
}
