/**
 * Webhooks, measured in one run against loopback only:
 *  1. signed webhook events/s through the whole path (verify → store → apply → publish) as a ratio of a
 *     bare HTTP 200 endpoint on the same server stack (medians of 2 rounds);
 *  2. webhook → subscriber latency (p50/p99) with 100 SSE subscribers while events arrive at 200/s for
 *     5 s, and the share delivered (delivered ÷ expected).
 * The gateway is embedded PGlite in this process, so subscribers and load share its event loop.
 * Run: npx tsx bench/webhooks.ts   (stops by itself in about a minute)
 */
import { Agent, request, type Server } from "node:http";
import { serve } from "@hono/node-server";
import autocannon from "autocannon";
import { createClient } from "graphql-sse";
import { Hono } from "hono";
import { signPayload } from "../src/emulator/webhooks.ts";
import { setStripeConfig } from "../src/orgs/stripe-config.ts";
import { median, startBenchWorld } from "./setup.ts";

const ROUNDS = 2;
const DURATION_S = 4;
const SUBSCRIBERS = 100;
const RATE_PER_S = 200;
const LOAD_S = 5;
const DRAIN_MS = 10_000;
const SECRET = "whsec_benchSecret0123456789abcdef";

const world = await startBenchWorld({ payouts: 5, chargesPerPayout: 2 });
await world.deps.sync.idle();
const connection = await world.deps.db.prisma.stripeConnection.findUniqueOrThrow({
  where: { id: world.connectionId },
});
await setStripeConfig(
  {
    prisma: world.deps.db.prisma,
    secrets: world.deps.secrets,
    marketplaceUrl: world.deps.config.stripe.marketplaceUrl,
  },
  connection.orgId,
  { webhookSigningSecret: SECRET },
);
const webhookPath = `/stripe/webhooks/${connection.orgId}`;

// At most 64 connections, as a load balancer would hold: excess requests wait on the client side (and
// their wait counts in the latency, which is measured from when each event was due).
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function post(body: string, signature: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${world.url}${webhookPath}`,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "stripe-signature": signature },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

let sequence = 0;
/** A new payout each time, so every request stores an event and writes a row. */
function signedEvent(status = "paid"): { body: string; signature: string; payoutId: string } {
  sequence += 1;
  const now = Math.floor(Date.now() / 1000);
  const payoutId = `po_bench_${sequence}`;
  const body = JSON.stringify({
    id: `evt_bench_${sequence}_${now}`,
    object: "event",
    type: "payout.updated",
    account: connection.stripeAccountId,
    livemode: false,
    created: now,
    api_version: "2026-10-28.endive",
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id: payoutId,
        object: "payout",
        amount: 1000 + sequence,
        currency: "usd",
        status,
        created: now,
        arrival_date: now,
      },
    },
  });
  return { body, signature: signPayload(body, SECRET, now), payoutId };
}

// The baseline: the same Hono + node-server stack, reading the body and answering 200.
const bare = new Hono().post("/", async (c) => {
  await c.req.text();
  return c.json({ received: true });
});
const bareServer = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
await new Promise((resolve) => bareServer.once("listening", resolve));
const bareAddress = bareServer.address();
const bareUrl = `http://127.0.0.1:${typeof bareAddress === "object" && bareAddress ? bareAddress.port : 0}/`;

async function requestsPerSecond(url: string, signed: boolean) {
  const result = await autocannon({
    url,
    method: "POST",
    connections: 10,
    duration: DURATION_S,
    requests: [
      {
        method: "POST",
        setupRequest: (request) => {
          const event = signedEvent();
          return {
            ...request,
            body: event.body,
            headers: {
              "content-type": "application/json",
              ...(signed ? { "stripe-signature": event.signature } : {}),
            },
          };
        },
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

const bareRates: number[] = [];
const webhookRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  bareRates.push(await requestsPerSecond(bareUrl, false));
  webhookRates.push(await requestsPerSecond(`${world.url}${webhookPath}`, true));
}
await world.deps.background.idle();

// Latency: SUBSCRIBERS SSE subscriptions to payoutUpdated, then RATE_PER_S webhooks a second.
const sentAt = new Map<string, number>();
const latencies: number[] = [];
const warm = new Set<number>();
let onWarm: () => void = () => {};
const clients = Array.from({ length: SUBSCRIBERS }, () =>
  createClient({ url: `${world.url}/graphql`, headers: { authorization: `Bearer ${world.apiKey}` } }),
);
const listening = clients.map(async (client, index) => {
  for await (const result of client.iterate<{ payoutUpdated: { stripeId: string } }>({
    query: "subscription { payoutUpdated { stripeId status } }",
  })) {
    const id = result.data?.payoutUpdated.stripeId;
    if (!id) continue;
    if (id.startsWith("po_warm")) {
      warm.add(index);
      if (warm.size === SUBSCRIBERS) onWarm();
      continue;
    }
    const sent = sentAt.get(id);
    if (sent !== undefined) latencies.push(performance.now() - sent);
  }
});
// Subscribed once every subscriber has heard a warm-up event (one is posted every 500 ms until then).
await new Promise<void>((resolve, reject) => {
  const deadline = Date.now() + 20_000;
  const timer = setInterval(() => {
    if (Date.now() > deadline) {
      clearInterval(timer);
      reject(new Error(`only ${warm.size} of ${SUBSCRIBERS} subscribers heard a warm-up event`));
      return;
    }
    const event = signedEvent();
    const body = event.body.replaceAll(event.payoutId, `po_warm_${sequence}`);
    void post(body, signPayload(body, SECRET, Math.floor(Date.now() / 1000)));
  }, 500);
  onWarm = () => {
    clearInterval(timer);
    resolve();
  };
});

const total = RATE_PER_S * LOAD_S;
const started = performance.now();
const posts: Promise<unknown>[] = [];
let failedPosts = 0;
let answered = 0;
for (let i = 0; i < total; i++) {
  const due = started + (i * 1000) / RATE_PER_S;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const event = signedEvent();
  sentAt.set(event.payoutId, due);
  posts.push(
    post(event.body, event.signature).then(
      (status) => {
        answered += 1;
        if (status !== 200) failedPosts += 1;
      },
      () => {
        failedPosts += 1;
      },
    ),
  );
}
const sendSeconds = (performance.now() - started) / 1000;
const expected = total * SUBSCRIBERS;
// Bounded: what has not arrived DRAIN_MS after the last send counts as not delivered.
const drainUntil = Date.now() + DRAIN_MS;
while (latencies.length < expected && Date.now() < drainUntil)
  await new Promise((resolve) => setTimeout(resolve, 100));
const acknowledged = posts.length;

const sorted = [...latencies].sort((a, b) => a - b);
const percentile = (p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : Number.NaN;
const bareRate = median(bareRates);
const webhookRate = median(webhookRates);
console.log(`bare HTTP 200 endpoint:   ${bareRate.toFixed(0)} req/s (median of ${ROUNDS})`);
console.log(`signed webhooks, stored:  ${webhookRate.toFixed(0)} events/s (median of ${ROUNDS})`);
console.log(`ratio webhook ÷ bare:     ${(webhookRate / bareRate).toFixed(3)}`);
console.log(
  `fan-out: ${SUBSCRIBERS} SSE subscribers, ${total} events offered at ${RATE_PER_S}/s (sent in ${sendSeconds.toFixed(1)} s)`,
);
console.log(`webhooks answered:        ${answered} of ${acknowledged} (${failedPosts} not 200)`);
console.log(
  `latency webhook → subscriber: p50 ${percentile(0.5).toFixed(0)} ms, p99 ${percentile(0.99).toFixed(0)} ms`,
);
console.log(
  `delivered ÷ expected:     ${(latencies.length / expected).toFixed(3)} (${latencies.length} of ${expected}, within ${DRAIN_MS / 1000} s of the last send)`,
);

console.log(
  `delivered ÷ (answered × subscribers): ${(latencies.length / Math.max(1, answered * SUBSCRIBERS)).toFixed(3)} (fan-out completeness; the rest is intake backlog)`,
);

for (const client of clients) client.dispose();
// Stop within the minute even if the gateway still has a backlog.
await Promise.race([
  Promise.allSettled(listening).then(async () => {
    await new Promise((resolve) => bareServer.close(resolve));
    await world.close();
  }),
  new Promise((resolve) => setTimeout(resolve, 5_000)),
]);
process.exit(0);
