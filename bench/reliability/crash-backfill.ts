// Scenario 5: the gateway killed with SIGKILL in the middle of a connection's first backfill (an account
// of thousands of objects), then started again on the same database. Figures: what was stored at the kill,
// when the new process resumed (the killed one's lease must expire first) and reached READY, the list
// pages it fetched compared with a fresh backfill, and per resource the rows against the emulator's
// objects: missing, extra, duplicated.

import { randomBytes } from "node:crypto";
import { RESOURCES, type ResourceSpec } from "../../src/stripe/resources.ts";
import type { Child } from "../child.ts";
import { type GatewayProcess, startGateway } from "./gateway-process.ts";
import type { Http } from "./http.ts";
import { GiveUp, sleep, until } from "./phases.ts";
import type { PrivatePostgres } from "./postgres.ts";
import type { SecretRegistry } from "./secrets.ts";
import type { EmulatorInfo } from "./servers/emulator.ts";
import { setUpOrg } from "./setup.ts";
import { emulatorObjects, tableOf } from "./stripe-objects.ts";

export type ResourceCheck = {
  resource: string;
  emulator: number;
  rows: number;
  distinctIds: number;
  missing: number;
  extra: number;
  atKill: number;
  syncState: string;
};

export type CrashResults = {
  objects: number;
  killAt: {
    seconds: number;
    rows: number;
    fraction: number;
    status: string;
    states: { resource: string; status: string; objectsSynced: number }[];
  };
  restart: {
    listeningSeconds: number;
    resumedSeconds: number | null;
    readySeconds: number | null;
    allDoneSeconds: number | null;
  };
  pages: { afterRestart: number; freshBackfill: number; byPath: Record<string, number> };
  resources: ResourceCheck[];
  duplicates: number;
  missing: number;
  extra: number;
  finalStatus: string;
};

type Context = {
  http: Http;
  postgres: PrivatePostgres;
  database: string;
  emulator: Child<EmulatorInfo>;
  env: Record<string, string>;
  logFile: (name: string) => string;
  secrets: SecretRegistry;
  adminKey: string;
  onGateway(gateway: GatewayProcess): void;
};

const SPECS = (RESOURCES as readonly ResourceSpec[]).filter((spec) => spec.list || spec.perParent);
const LIST_SPECS = SPECS.filter((spec) => spec.list);
/** The sync states of a finished backfill: every list, and every per-parent list. */
const STATE_NAMES = [
  ...LIST_SPECS.map((spec) => spec.key),
  ...SPECS.flatMap((spec) => (spec.perParent ? [spec.perParent.state] : [])),
];

async function rowCounts(context: Context, connectionId: string) {
  const sql = SPECS.map(
    (spec) =>
      `SELECT '${spec.key}' AS resource, count(*)::int AS rows, count(DISTINCT "stripeId")::int AS ids FROM "${tableOf(spec)}" WHERE "connectionId" = $1`,
  ).join(" UNION ALL ");
  const rows = await context.postgres.query<{ resource: string; rows: number; ids: number }>(
    context.database,
    sql,
    [connectionId],
  );
  return new Map(rows.map((row) => [row.resource, row]));
}

const statusOf = async (context: Context, connectionId: string) =>
  (
    await context.postgres.query<{ status: string }>(
      context.database,
      `SELECT status::text FROM "StripeConnection" WHERE id = $1`,
      [connectionId],
    )
  )[0]?.status ?? "missing";

const syncStates = (context: Context, connectionId: string) =>
  context.postgres.query<{ resource: string; status: string; objectsSynced: number }>(
    context.database,
    `SELECT resource, status, "objectsSynced" FROM "StripeSyncState" WHERE "connectionId" = $1 ORDER BY resource`,
    [connectionId],
  );

export async function runCrashBackfill(
  context: Context,
  options: { killFraction: number },
  signal: AbortSignal,
): Promise<CrashResults> {
  const info = context.emulator.info;
  const account = info.accountIds[0]!;
  const expected = await emulatorObjects(info.url, info.secretKey, account);
  const topLevel = LIST_SPECS.reduce((sum, spec) => sum + (expected.get(spec.key)?.size ?? 0), 0);
  const objects = [...expected.values()].reduce((sum, ids) => sum + ids.size, 0);

  const first = await startGateway("C (killed)", context.env, context.logFile("gateway-c1.log"));
  context.onGateway(first);
  const org = await setUpOrg(context.http, first.url, info, context.secrets, {
    name: "reliability-crash",
    adminKey: context.adminKey,
    signingSecret: `whsec_${randomBytes(24).toString("hex")}`,
    account,
    waitReady: false,
  });
  const backfillBegan = performance.now();
  const sum = (counts: Map<string, { rows: number }>) =>
    LIST_SPECS.reduce((total, spec) => total + (counts.get(spec.key)?.rows ?? 0), 0);
  const atKill = await until(
    `${Math.round(options.killFraction * 100)} % of the backfill stored`,
    async () => {
      const counts = await rowCounts(context, org.connectionRowId);
      const status = await statusOf(context, org.connectionRowId);
      if (status === "READY")
        throw new GiveUp("the backfill finished before the kill point: make the account bigger");
      return sum(counts) >= options.killFraction * topLevel ? { counts, status } : undefined;
    },
    120_000,
    50,
  );
  await first.kill("SIGKILL");
  const killedAt = performance.now();
  await context.emulator.call("resetRequests");
  const countsAtKill = await rowCounts(context, org.connectionRowId);
  const statesAtKill = await syncStates(context, org.connectionRowId);
  const rowsAtKill = sum(countsAtKill);

  const restartBegan = performance.now();
  const second = await startGateway("C (restarted)", context.env, context.logFile("gateway-c2.log"));
  context.onGateway(second);
  const listeningSeconds = (performance.now() - restartBegan) / 1000;
  let resumedSeconds: number | null = null;
  let readySeconds: number | null = null;
  let allDoneSeconds: number | null = null;
  const deadline = performance.now() + 170_000;
  while (!signal.aborted && performance.now() < deadline) {
    const counts = await rowCounts(context, org.connectionRowId);
    const seconds = (performance.now() - restartBegan) / 1000;
    if (resumedSeconds === null && sum(counts) > rowsAtKill) resumedSeconds = seconds;
    if (readySeconds === null && (await statusOf(context, org.connectionRowId)) === "READY")
      readySeconds = seconds;
    const states = await syncStates(context, org.connectionRowId);
    if (
      readySeconds !== null &&
      STATE_NAMES.every((name) =>
        ["done", "forbidden"].includes(states.find((state) => state.resource === name)?.status ?? ""),
      )
    ) {
      allDoneSeconds = seconds;
      break;
    }
    await sleep(250, signal);
  }
  const requests = await context.emulator.call<Record<string, number>>("requests");
  const listPaths = new Set(LIST_SPECS.map((spec) => `GET ${spec.list!.path}`));
  const byPath = Object.fromEntries(Object.entries(requests).filter(([path]) => listPaths.has(path)));
  const freshBackfill = LIST_SPECS.reduce(
    (pages, spec) => pages + Math.max(1, Math.ceil((expected.get(spec.key)?.size ?? 0) / 100)),
    0,
  );

  const finalCounts = await rowCounts(context, org.connectionRowId);
  const finalStates = await syncStates(context, org.connectionRowId);
  const resources: ResourceCheck[] = [];
  for (const spec of SPECS) {
    const ids = new Set(
      (
        await context.postgres.query<{ stripeId: string }>(
          context.database,
          `SELECT "stripeId" FROM "${tableOf(spec)}" WHERE "connectionId" = $1`,
          [org.connectionRowId],
        )
      ).map((row) => row.stripeId),
    );
    const want = expected.get(spec.key) ?? new Set<string>();
    const state = spec.list ? spec.key : (spec.perParent?.state ?? spec.key);
    resources.push({
      resource: spec.key,
      emulator: want.size,
      rows: finalCounts.get(spec.key)?.rows ?? 0,
      distinctIds: finalCounts.get(spec.key)?.ids ?? 0,
      missing: [...want].filter((id) => !ids.has(id)).length,
      extra: [...ids].filter((id) => !want.has(id)).length,
      atKill: countsAtKill.get(spec.key)?.rows ?? 0,
      syncState: finalStates.find((s) => s.resource === state)?.status ?? "none",
    });
  }
  return {
    objects,
    killAt: {
      seconds: (killedAt - backfillBegan) / 1000,
      rows: rowsAtKill,
      fraction: rowsAtKill / topLevel,
      status: atKill.status,
      states: statesAtKill,
    },
    restart: { listeningSeconds, resumedSeconds, readySeconds, allDoneSeconds },
    pages: { afterRestart: Object.values(byPath).reduce((a, b) => a + b, 0), freshBackfill, byPath },
    resources,
    duplicates: resources.reduce((n, r) => n + (r.rows - r.distinctIds), 0),
    missing: resources.reduce((n, r) => n + r.missing, 0),
    extra: resources.reduce((n, r) => n + r.extra, 0),
    finalStatus: await statusOf(context, org.connectionRowId),
  };
}
