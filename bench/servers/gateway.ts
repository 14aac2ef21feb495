// The gateway under measurement, in its own process: createDeps + createApp on node-server (as
// src/main.ts serves it), a Stripe emulator on loopback, and one org that connects one emulator account
// through the real OAuth flow — all set up over HTTP as a user would.
//   BENCH_DATABASE_URL  PostgreSQL (a scratch database); unset: the embedded PostgreSQL cluster, which
//                       createDeps initialises and starts in a fresh temporary DATA_DIR (removed when this
//                       process stops, after deps.close() has stopped the cluster)
//   BENCH_PAYOUTS, BENCH_CHARGES  the emulator account's size
//   BENCH_MODE=backfill  measure the first backfill to READY, report it and stop; otherwise serve once
//                        the first sync is done
import { chmod, mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { serve } from "@hono/node-server";
import { decodeGlobalID } from "@pothos/plugin-relay";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { startCluster } from "../../src/db/embedded/cluster.ts";
import { createDeps } from "../../src/deps.ts";
import { createEmulator } from "../../src/emulator/create-emulator.ts";
import { createLogger } from "../../src/logger.ts";
import { RESOURCES } from "../../src/stripe/resources.ts";
import { loopbackUrl, serveParent } from "../child.ts";
import { SIGNING_SECRET } from "../events.ts";

export type GatewayInfo = {
  url: string;
  apiKey: string;
  /** GraphQL id of the connection, and its row id in the gateway's tables */
  connectionId: string;
  connectionRowId: string;
  stripeAccountId: string;
  webhookPath: string;
  database: "embedded" | "postgres";
  /** A connection string of the gateway's database (PostGraphile reads the same tables) */
  databaseUrl: string;
  setupSeconds: number;
  backfill?: BackfillResult;
};
export type BackfillResult = {
  ready: boolean;
  seconds: number;
  objects: number;
  /** List resources whose sync state is not done at READY */
  notDone: string[];
};

const ADMIN_KEY = "bench-admin-key-0123456789abcdef";
const backfillMode = process.env.BENCH_MODE === "backfill";
const started = performance.now();

const emulator = createEmulator({
  seed: "bench",
  accounts: 1,
  size: {
    payouts: Number(process.env.BENCH_PAYOUTS ?? 120),
    chargesPerPayout: Number(process.env.BENCH_CHARGES ?? 1),
  },
  rateLimits: false,
  platforms: [{ redirectUris: ["http://127.0.0.1/stripe/proxy/*"] }],
});
/** What this process started, undone in reverse order when it stops (or fails to start). */
const cleanup: (() => Promise<unknown>)[] = [() => emulator.close()];
let stopping: Promise<void> | null = null;
const shutdown = () =>
  (stopping ??= (async () => {
    for (const step of cleanup.reverse()) await step().catch((error) => console.error(error));
  })());
process.on("uncaughtException", (error) => {
  console.error(error);
  void shutdown().finally(() => process.exit(1));
});
const stripe = await emulator.listen(0, "127.0.0.1");
const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;
// Root runs the cluster as the OS user postgres, which has to pass through the folder to its own.
const dataDir = databaseUrl ? undefined : await mkdtemp(path.join(tmpdir(), "gw-bench-"));
if (dataDir) {
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  await chmod(dataDir, 0o711);
}
/** A rate limit no bench reaches. */
const UNLIMITED = "1000000000";
const config = loadConfig({
  NODE_ENV: "production",
  PUBLIC_URL: "http://127.0.0.1",
  ADMIN_API_KEY: ADMIN_KEY,
  DATABASE_URL: databaseUrl,
  DATA_DIR: dataDir,
  STRIPE_API_URL: stripe.url,
  STRIPE_CONNECT_URL: stripe.url,
  STRIPE_MARKETPLACE_URL: stripe.url,
  ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
  LOG_LEVEL: "silent",
  // The org's webhook endpoint is a receiver on this machine (production otherwise refuses loopback).
  WEBHOOK_ALLOW_PRIVATE_URLS: "true",
  // One API key and one org carry the whole load: the bench measures the gateway, not its limiter (whose
  // per-request cost it still includes).
  RATE_LIMIT_API_KEY_BURST: UNLIMITED,
  RATE_LIMIT_API_KEY_PER_SECOND: UNLIMITED,
  RATE_LIMIT_WEBHOOK_BURST: UNLIMITED,
  RATE_LIMIT_WEBHOOK_PER_SECOND: UNLIMITED,
  RATE_LIMIT_OAUTH_BURST: UNLIMITED,
  RATE_LIMIT_OAUTH_PER_SECOND: UNLIMITED,
});
const deps = await createDeps(config, { logger: createLogger({ level: "silent" }) });
// Stops the embedded cluster too: only then can its folder go.
cleanup.push(() => deps.close());
const app = createApp(deps);
deps.webhooks.start();
const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
cleanup.push(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
await new Promise((resolve) => server.once("listening", resolve));
const url = loopbackUrl(server.address());

async function gql<T>(query: string, variables: Record<string, unknown>, key: string): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: T; errors?: unknown };
  if (!response.ok || result.errors || !result.data) throw new Error(`${query}: ${JSON.stringify(result)}`);
  return result.data;
}

const { createOrg } = await gql<{ createOrg: { apiKey: string; org: { webhookUrl: string } } }>(
  "mutation($name: String!) { createOrg(input: { name: $name }) { ... on CreateOrgSuccess { apiKey org { webhookUrl } } } }",
  { name: "Bench" },
  ADMIN_KEY,
);
const apiKey = createOrg.apiKey;
const keys = emulator.platforms[0]!.keys.test;
await gql(
  "mutation($input: SetStripeConfigInput!) { setStripeConfig(input: $input) { __typename } }",
  { input: { clientId: keys.clientId, secretKey: keys.secretKey, webhookSigningSecret: SIGNING_SECRET } },
  apiKey,
);
const { startStripeConnection } = await gql<{
  startStripeConnection: { authorizationUrl: string; connection: { id: string } };
}>(
  "mutation { startStripeConnection { ... on StartStripeConnectionSuccess { authorizationUrl connection { id } } } }",
  {},
  apiKey,
);
const connectionId = startStripeConnection.connection.id;
const connectionRowId = decodeGlobalID(connectionId).id;
const atStripe = await fetch(startStripeConnection.authorizationUrl, { redirect: "manual" });
const callback = new URL(atStripe.headers.get("location") ?? "");
// The merchant's browser lands on the gateway: the connection activates and its backfill starts.
const backfillStarted = performance.now();
const landed = await fetch(`${url}${callback.pathname}${callback.search}`, { redirect: "manual" });
if (landed.status >= 400) throw new Error(`OAuth callback answered ${landed.status}`);

const status = async () =>
  (await deps.db.prisma.stripeConnection.findUniqueOrThrow({ where: { id: connectionRowId } })).status;

let backfill: BackfillResult | undefined;
if (backfillMode) {
  const deadline = backfillStarted + Number(process.env.BENCH_BACKFILL_TIMEOUT ?? 90) * 1000;
  let ready = false;
  while (performance.now() < deadline) {
    if ((await status()) === "READY") {
      ready = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - backfillStarted) / 1000;
  const lists = new Set<string>(
    RESOURCES.filter((resource) => "list" in resource).map((resource) => resource.key),
  );
  const { stripeConnection } = await gql<{
    stripeConnection: { syncStates: { resource: string; status: string; objectsSynced: number }[] };
  }>(
    "query($id: ID!) { stripeConnection(id: $id) { syncStates { resource status objectsSynced } } }",
    { id: connectionId },
    apiKey,
  );
  const states = stripeConnection.syncStates.filter((state) => lists.has(state.resource));
  backfill = {
    ready,
    seconds,
    objects: states.reduce((sum, state) => sum + state.objectsSynced, 0),
    notDone: [...lists].filter((key) => states.find((state) => state.resource === key)?.status !== "done"),
  };
} else {
  await deps.sync.idle();
  if ((await status()) !== "READY") throw new Error(`connection is ${await status()} after its first sync`);
}

const { stripeConnection } = await gql<{ stripeConnection: { stripeAccountId: string } }>(
  "query($id: ID!) { stripeConnection(id: $id) { stripeAccountId } }",
  { id: connectionId },
  apiKey,
);
const info: GatewayInfo = {
  databaseUrl: databaseUrl ?? (await embeddedUrl(dataDir!)),
  url,
  apiKey,
  connectionId,
  connectionRowId,
  stripeAccountId: stripeConnection.stripeAccountId,
  webhookPath: new URL(createOrg.org.webhookUrl).pathname,
  database: deps.db.kind,
  setupSeconds: (performance.now() - started) / 1000,
  backfill,
};
serveParent(
  info,
  {
    /** Every started sync run and background task (webhook follow-ups) finished */
    idle: async () => {
      await deps.sync.idle();
      await deps.background.idle();
    },
  },
  shutdown,
);

/**
 * The running embedded cluster as a URL (what PostGraphile takes): startCluster finds the server that
 * createDeps started and reports how to reach it (a Unix socket directory, in `?host=`).
 */
async function embeddedUrl(dir: string): Promise<string> {
  const { connection } = await startCluster({ dataDir: dir, log: () => {} });
  const host = String(connection.host ?? "localhost");
  const user = encodeURIComponent(String(connection.user));
  const password = encodeURIComponent(String(connection.password ?? ""));
  const database = encodeURIComponent(connection.database);
  return host.startsWith("/")
    ? `postgresql://${user}:${password}@localhost:${connection.port}/${database}?host=${encodeURIComponent(host)}`
    : `postgresql://${user}:${password}@${host}:${connection.port}/${database}`;
}
