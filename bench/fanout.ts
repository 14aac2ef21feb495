// Live fan-out: settings.subscribers GraphQL-over-SSE subscribers (graphql-sse's client, one connection
// each) to payoutUpdated, while signed webhooks arrive at settings.fanoutRate a second. Latency runs from
// when each webhook was due to when a subscriber heard its payout; a delivery not heard within 10 s
// counts as not delivered (and as infinitely late in the p99).
import { Agent, request } from "node:http";
import { createClient } from "graphql-sse";
import type { Child } from "./child.ts";
import { signedPayoutEvent } from "./events.ts";
import { median, settings } from "./measure.ts";
import type { GatewayInfo } from "./servers/gateway.ts";

const WITHIN_MS = 10_000;

/** notAcknowledged: webhooks not answered 200 by the end of the round */
export type FanoutRound = { p50: number; p99: number; delivered: number; notAcknowledged: number };
export type Fanout = { p99: number; delivered: number; rounds: FanoutRound[] };

export async function measureFanout(gateway: Child<GatewayInfo>): Promise<Fanout> {
  const { url, webhookPath, stripeAccountId, apiKey } = gateway.info;
  // At most 64 connections, as a load balancer would hold: a delivery that waits for one is late by as much.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const post = (body: string, signature: string) =>
    new Promise<number>((resolve) => {
      const req = request(
        `${url}${webhookPath}`,
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
      req.on("error", () => resolve(0));
      req.end(body);
    });

  let dueAt = new Map<string, number>();
  let latencies: number[] = [];
  const warm = new Set<number>();
  let onWarm = () => {};
  const clients = Array.from({ length: settings.subscribers }, () =>
    createClient({ url: `${url}/graphql`, headers: { authorization: `Bearer ${apiKey}` }, retryAttempts: 0 }),
  );
  const listening = clients.map(async (client, index) => {
    for await (const result of client.iterate<{ payoutUpdated: { stripeId: string } }>({
      query: "subscription { payoutUpdated { stripeId status } }",
    })) {
      const id = result.data?.payoutUpdated.stripeId;
      if (!id) continue;
      if (id.startsWith("po_warm")) {
        warm.add(index);
        if (warm.size === settings.subscribers) onWarm();
        continue;
      }
      const due = dueAt.get(id);
      if (due !== undefined) latencies.push(performance.now() - due);
    }
  });
  try {
    // Subscribed once every subscriber has heard a warm-up event (one is posted every 500 ms until then).
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 30_000;
      const timer = setInterval(() => {
        if (Date.now() > deadline) {
          clearInterval(timer);
          reject(new Error(`only ${warm.size} of ${settings.subscribers} subscribers heard a warm-up event`));
          return;
        }
        const event = signedPayoutEvent(stripeAccountId, "po_warm");
        void post(event.body, event.signature);
      }, 500);
      onWarm = () => {
        clearInterval(timer);
        resolve();
      };
    });
    const rounds: FanoutRound[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      dueAt = new Map();
      latencies = [];
      rounds.push(await oneRound(post, dueAt, () => latencies, stripeAccountId));
      await gateway.call("idle");
    }
    return {
      p99: median(rounds.map((round) => round.p99)),
      delivered: median(rounds.map((round) => round.delivered)),
      rounds,
    };
  } finally {
    for (const client of clients) client.dispose();
    await Promise.race([Promise.allSettled(listening), new Promise((resolve) => setTimeout(resolve, 2_000))]);
    agent.destroy();
  }
}

async function oneRound(
  post: (body: string, signature: string) => Promise<number>,
  dueAt: Map<string, number>,
  latencies: () => number[],
  account: string,
): Promise<FanoutRound> {
  const total = Math.round(settings.fanoutRate * settings.fanoutSeconds);
  const started = performance.now();
  let acknowledged = 0;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / settings.fanoutRate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const event = signedPayoutEvent(account);
    dueAt.set(event.payoutId, due);
    void post(event.body, event.signature).then((status) => {
      if (status === 200) acknowledged += 1;
    });
  }
  const expected = total * settings.subscribers;
  // Until every delivery is heard, or the last one was due WITHIN_MS ago.
  const lastDue = started + ((total - 1) * 1000) / settings.fanoutRate;
  while (latencies().length < expected && performance.now() < lastDue + WITHIN_MS)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const heard = latencies()
    .filter((ms) => ms <= WITHIN_MS)
    .sort((a, b) => a - b);
  // Undelivered ones are the slowest of all: the p99 is finite only when 99 % arrived in time.
  const at = (p: number) => heard[Math.ceil(expected * p) - 1] ?? Number.POSITIVE_INFINITY;
  return {
    p50: at(0.5),
    p99: at(0.99),
    delivered: heard.length / expected,
    notAcknowledged: total - acknowledged,
  };
}
