/**
 * npm run bench: every ratio of issue 12's targets in one run, on the embedded PostgreSQL cluster (a fresh
 * one in a temporary DATA_DIR per gateway) and (when TEST_DATABASE_URL is set) a PostgreSQL server, against baselines measured in the same run; medians of
 * BENCH_ROUNDS (3) rounds of BENCH_SECONDS (5) with BENCH_CONNECTIONS (50) autocannon connections.
 * Prints the table and writes it to bench/RESULTS.md. Loopback only; each server in its own process.
 */
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { measureBackfill } from "./backfill.ts";
import { type Baselines, startBaselines } from "./baselines.ts";
import { startChild } from "./child.ts";
import { type Cost, costNotes, costTable, measureCost } from "./cost.ts";
import { scratchDatabases } from "./databases.ts";
import { measureFanout } from "./fanout.ts";
import { interleaved, type Load, settings } from "./measure.ts";
import { measureOutbound } from "./outbound.ts";
import { startPostGraphile } from "./postgraphile.ts";
import { PAYOUT_FIELDS, queryLoads } from "./queries.ts";
import { type DatabaseResults, type Outcome, type RunResults, roundsDetail, table } from "./report.ts";
import { measureResume } from "./resume.ts";
import type { GatewayInfo } from "./servers/gateway.ts";
import { webhookLoad } from "./webhooks.ts";

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const step = (message: string) => console.log(`[${elapsed()}] ${message}`);
let failures = 0;

/** A measurement's value, or its error (the rest of the run goes on). */
async function attempt<T>(name: string, measure: () => Promise<T>): Promise<Outcome<T>> {
  step(name);
  try {
    return { value: await measure() };
  } catch (error) {
    failures++;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`  ${name} failed: ${message}`);
    return { error: message };
  }
}

async function measureDatabase(baselines: Baselines, postgresUrl: string | null): Promise<DatabaseResults> {
  const name = postgresUrl ? "PostgreSQL" : "embedded PostgreSQL";
  const databases = postgresUrl ? scratchDatabases(postgresUrl) : null;
  const results: DatabaseResults = {
    queries: null,
    webhooks: null,
    fanout: null,
    resume: null,
    outbound: null,
    backfill: null,
    postgraphile: null,
  };
  const database = await databases?.create();
  try {
    step(`${name}: gateway with one connection, first sync`);
    const gateway = await startChild<GatewayInfo>("gateway.ts", { BENCH_DATABASE_URL: database?.url });
    try {
      step(`${name}: ready in ${gateway.info.setupSeconds.toFixed(1)} s`);
      // PostGraphile reads the tables the gateway filled, in its scratch database or its embedded cluster.
      const postgraphile = await attempt(`${name}: PostGraphile`, () =>
        startPostGraphile(gateway.info, gateway.info.databaseUrl),
      );
      if (postgraphile && "error" in postgraphile) results.postgraphile = postgraphile;
      const withPostGraphile: Record<string, Load> =
        postgraphile && "value" in postgraphile ? { postgraphile: postgraphile.value.load } : {};
      try {
        const queries = await attempt(
          `${name}: queries and PostGraphile, interleaved with Yoga { hello }`,
          async () => {
            const loads = { hello: baselines.hello, ...(await queryLoads(gateway.info)) };
            const values = await interleaved<string>({ ...loads, ...withPostGraphile });
            return values as Record<keyof typeof loads, number[]> & { postgraphile?: number[] };
          },
        );
        results.queries = queries;
        if (queries && "value" in queries && queries.value.postgraphile)
          results.postgraphile = { value: queries.value.postgraphile };
      } finally {
        if (postgraphile && "value" in postgraphile) await postgraphile.value.stop();
      }
      results.webhooks = await attempt(`${name}: webhooks, interleaved with bare node:http 200`, async () => {
        const values = await interleaved({ http200: baselines.http200, webhooks: webhookLoad(gateway.info) });
        // Follow-ups of the deliveries (if any) finish before the next measurement starts.
        await gateway.call("idle");
        return values;
      });
      results.fanout = await attempt(`${name}: fan-out`, () => measureFanout(gateway));
      results.resume = await attempt(`${name}: resume after ${settings.missedChanges} missed changes`, () =>
        measureResume(gateway),
      );
      results.outbound = await attempt(`${name}: signed webhooks to the org's endpoint`, () =>
        measureOutbound(gateway),
      );
    } finally {
      await gateway.stop();
    }
  } catch (error) {
    failures++;
    console.error(`  ${name}: ${error instanceof Error ? error.message : String(error)}`);
    results.queries ??= { error: String(error) };
  } finally {
    await database?.drop();
  }
  results.backfill = await attempt(`${name}: backfill (${settings.rounds} fresh gateways)`, () =>
    measureBackfill(databases),
  );
  return results;
}

function describeRun(): string {
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  const commit = git("rev-parse", "--short", "HEAD") || "unknown";
  const dirty = git("status", "--porcelain", "--untracked-files=no") ? " with uncommitted changes" : "";
  return [
    `Run finished ${new Date().toISOString()} at ${commit}${dirty}; Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"};`,
    `load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (other work on the machine shares its cores).`,
    `Medians of ${settings.rounds} rounds of ${settings.seconds} s, autocannon with ${settings.connections} connections;`,
    `fan-out: ${settings.subscribers} subscribers, ${settings.fanoutRate} events/s for ${settings.fanoutSeconds} s per round;`,
    `backfill: ${settings.backfillPayouts} payouts × ${settings.backfillCharges} charges each, at the gateway's 12.5 requests/s test-mode budget.`,
  ].join("\n");
}

const postgresUrl = process.env.TEST_DATABASE_URL || null;
step("baselines: bare Yoga { hello }, bare node:http 200 (measured beside each path)");
const loadBefore = loadavg()[0]!;
const baselines = await startBaselines();
const results: RunResults = {
  embedded: await measureDatabase(baselines, null),
  postgres: postgresUrl ? await measureDatabase(baselines, postgresUrl) : null,
};
await baselines.stop();
if (!postgresUrl) console.log("TEST_DATABASE_URL is not set: the PostgreSQL column is not run.");
// Last, on its own: the gateway as deployed, with nothing else of this run going on.
const cost = await attempt<Cost>("cost: memory, start times, poll CPU and 200 connects, as deployed", () =>
  measureCost(undefined, (message) => console.log(`  ${message}`)),
);
const costSection =
  cost && "value" in cost
    ? `${costTable([cost.value])}\n\n${costNotes([cost.value])}`
    : `The cost measurement failed: ${cost && "error" in cost ? cost.error : "no result"}`;

const markdown = `# Benchmark results

Written by \`npm run bench\` (bench/run.ts); how each path is measured is at the end.

${describeRun()}
The whole run took ${elapsed()}.

${table(results)}

Rounds:

${roundsDetail(results)}

## What it costs to run (issue 20 item 6)

Measured by bench/cost.ts (\`npx tsx bench/cost.ts\` runs it alone).

${costSection}

## How the table above is measured

- Every server runs in its own process on 127.0.0.1 (bench/servers/): the two baselines, the gateway
  (createDeps + createApp on node-server, as src/main.ts serves it; without a database URL, createDeps starts
  the embedded cluster in a fresh temporary DATA_DIR) beside its in-process Stripe emulator, and
  PostGraphile; autocannon, the SSE subscribers and the webhook sender run in this one.
- Baselines: a bare graphql-yoga \`{ hello }\` on node:http, and a bare node:http 200 that reads the same
  signed webhook bodies the gateway's endpoint is sent. Rounds are interleaved (hello, viewer, first 10,
  first 100, PostGraphile, then the next round; bare 200, webhooks, …), so each ratio divides medians taken
  on the same machine at the same time; each load has one unmeasured second first.
- The gateway is set up over HTTP as a user would (createOrg with the admin key, setStripeConfig with a webhook
  signing secret, startStripeConnection, the emulator's OAuth redirect) and measured once its first sync is
  done: an account of 120 payouts. Queries use the org's API key.
- Payouts pages select 6 fields (\`${PAYOUT_FIELDS}\`) of one connection, newest first; each request's
  \`created: { lte }\` bound is one millisecond later than the last, so no two documents are the same and a
  response cache could not answer them. \`{ viewer { id } }\` is the same document every time.
- Webhooks: every delivery is a new, validly signed \`payout.updated\` for the connected account (a new payout
  row); only 2xx answers count (any other fails the measurement).
- Fan-out: graphql-sse clients (one connection each) subscribed to \`payoutUpdated\`; webhooks are sent on a
  fixed schedule over at most 64 connections, and latency runs from when each was due to when a subscriber
  heard it. What is not heard within 10 s counts as not delivered, and as infinitely late in the p99.
- Outbound webhooks: one endpoint of the org (\`payout.*\`) at a node:http receiver in this process that
  verifies every delivery with \`standardwebhooks\`. Throughput: ${settings.outboundDeliveries} Stripe webhooks are
  applied while the endpoint is disabled, then it is enabled; deliveries/s until the receiver has all of them,
  beside bare node:http POSTs of the same signed bodies to the same receiver, 8 at a time (the gateway's
  sending slots per endpoint). Latency: 100 Stripe webhooks, one at a time, 20 a second; from posting each
  to the receiver verifying its delivery.
- Backfill: a fresh gateway, database and emulator per round; from the OAuth callback until the connection is
  READY, objects = the sum of \`objectsSynced\` of the list resources' sync states (each must be done).
- PostGraphile 4 (Node API, default inflection, read-only) over the database the gateway filled (its scratch
  database, or its embedded cluster through the cluster's Unix socket):
  \`allStripePayouts(first: 100, condition: { connectionId }, orderBy: [CREATED_DESC, ID_DESC])\` with the
  same 6 columns; the same document every request (PostGraphile has no response cache).
`;
console.log(`\n${table(results)}\n\n${roundsDetail(results)}\n\n${costSection}\n`);
await writeFile(new URL("./RESULTS.md", import.meta.url), markdown);
step(`wrote bench/RESULTS.md${failures ? `; ${failures} measurement(s) failed` : ""}`);
process.exit(failures ? 1 : 0);
