// Signed webhooks to the org's backend: a local receiver (node:http, verifying every delivery with
// `standardwebhooks` as an org would) behind one endpoint of the org.
//   Throughput: the endpoint is disabled while settings.outboundDeliveries Stripe webhooks are applied,
//   then enabled; deliveries per second from enabling it until the receiver has them all — beside the
//   baseline of bare node:http POSTs of signed bodies to the same receiver, 8 at a time (the gateway's
//   sending slots per endpoint).
//   Latency: Stripe webhooks posted one at a time, 20 a second; the time from posting each to the
//   receiver getting its delivery (p50, p99).
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { Child } from "./child.ts";
import { signedPayoutEvent } from "./events.ts";
import { median, settings } from "./measure.ts";
import type { GatewayInfo } from "./servers/gateway.ts";

export type Outbound = {
  perSecond: number;
  baselinePerSecond: number;
  p50: number;
  p99: number;
  rounds: { perSecond: number; baselinePerSecond: number; p50: number; p99: number }[];
};

const SLOTS = 8;
const LATENCY_EVENTS = 100;

export async function measureOutbound(gateway: Child<GatewayInfo>): Promise<Outbound> {
  const receiver = await startReceiver();
  const { url, apiKey, stripeAccountId, webhookPath } = gateway.info;
  const gql = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const result = (await response.json()) as { data?: T; errors?: unknown };
    if (result.errors || !result.data) throw new Error(JSON.stringify(result));
    return result.data;
  };
  const { createWebhookEndpoint } = await gql<{
    createWebhookEndpoint: { secret?: string; endpoint?: { id: string }; message?: string };
  }>(
    'mutation($url: String!) { createWebhookEndpoint(input: { url: $url, types: ["payout.*"] }) { ... on CreateWebhookEndpointSuccess { secret endpoint { id } } ... on Error { message } } }',
    { url: receiver.url },
  );
  if (!createWebhookEndpoint.secret) throw new Error(`no endpoint: ${createWebhookEndpoint.message}`);
  receiver.webhook = new Webhook(createWebhookEndpoint.secret);
  const endpointId = createWebhookEndpoint.endpoint!.id;
  const setEnabled = (enabled: boolean) =>
    gql(
      "mutation($id: ID!, $enabled: Boolean!) { updateWebhookEndpoint(id: $id, input: { enabled: $enabled }) { __typename } }",
      {
        id: endpointId,
        enabled,
      },
    );
  const postStripeWebhook = () => {
    const event = signedPayoutEvent(stripeAccountId, "po_outbound");
    return post(`${url}${webhookPath}`, event.body, { "stripe-signature": event.signature }).then(
      (status) => {
        if (status !== 200) throw new Error(`the gateway answered a Stripe webhook with ${status}`);
        return event.payoutId;
      },
    );
  };
  try {
    const rounds: Outbound["rounds"] = [];
    for (let round = 0; round < settings.rounds; round++) {
      // Throughput
      await setEnabled(false);
      for (let sent = 0; sent < settings.outboundDeliveries; sent += 50)
        await Promise.all(
          Array.from({ length: Math.min(50, settings.outboundDeliveries - sent) }, postStripeWebhook),
        );
      // Their follow-ups (if any) finish first: only the deliveries run while they are measured.
      await gateway.call("idle");
      const before = receiver.verified;
      const started = performance.now();
      await setEnabled(true);
      await receiver.until(before + settings.outboundDeliveries);
      const perSecond = (settings.outboundDeliveries * 1000) / (performance.now() - started);
      // Baseline: the same number of signed POSTs to the same receiver, SLOTS at a time.
      const bodies = receiver.lastBodies(settings.outboundDeliveries);
      const baselineStarted = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: SLOTS }, async () => {
          while (next < bodies.length) {
            const item = bodies[next++]!;
            await post(receiver.url, item.body, item.headers);
          }
        }),
      );
      const baselinePerSecond = (bodies.length * 1000) / (performance.now() - baselineStarted);
      // Latency
      const latencies: number[] = [];
      for (let index = 0; index < LATENCY_EVENTS; index++) {
        const posted = performance.now();
        const payoutId = await postStripeWebhook();
        const arrived = await receiver.arrivalOf(payoutId);
        latencies.push(arrived - posted);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - (performance.now() - posted))));
      }
      latencies.sort((a, b) => a - b);
      rounds.push({
        perSecond,
        baselinePerSecond,
        p50: latencies[Math.floor(latencies.length * 0.5)]!,
        p99: latencies[Math.ceil(latencies.length * 0.99) - 1]!,
      });
      await gateway.call("idle");
    }
    return {
      perSecond: median(rounds.map((round) => round.perSecond)),
      baselinePerSecond: median(rounds.map((round) => round.baselinePerSecond)),
      p50: median(rounds.map((round) => round.p50)),
      p99: median(rounds.map((round) => round.p99)),
      rounds,
    };
  } finally {
    await receiver.close();
  }
}

type Delivery = { body: string; headers: Record<string, string> };

/** The org's receiver: verifies each delivery, and notes when each payout's delivery arrived. */
async function startReceiver() {
  const arrivals = new Map<string, number>();
  const bodies: Delivery[] = [];
  const waiting = new Set<() => void>();
  const state = {
    url: "",
    webhook: null as Webhook | null,
    verified: 0,
    until: (count: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the receiver had ${state.verified} of ${count} deliveries after 120 s`)),
          120_000,
        );
        const check = () => {
          if (state.verified < count) return;
          clearTimeout(timer);
          waiting.delete(check);
          resolve();
        };
        waiting.add(check);
        check();
      }),
    arrivalOf: async (payoutId: string) => {
      while (!arrivals.has(payoutId))
        await new Promise<void>((resolve) =>
          waiting.add(function once() {
            waiting.delete(once);
            resolve();
          }),
        );
      return arrivals.get(payoutId)!;
    },
    lastBodies: (count: number) => bodies.slice(-count),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const headers = {
      "webhook-id": String(req.headers["webhook-id"]),
      "webhook-timestamp": String(req.headers["webhook-timestamp"]),
      "webhook-signature": String(req.headers["webhook-signature"]),
    };
    try {
      const delivery = state.webhook!.verify(body, headers) as { data: { object: { id: string } } };
      res.writeHead(204).end();
      if (!arrivals.has(delivery.data.object.id)) {
        arrivals.set(delivery.data.object.id, performance.now());
        state.verified += 1;
        bodies.push({ body, headers });
        if (bodies.length > 10_000) bodies.splice(0, 5_000);
      }
    } catch {
      res.writeHead(400).end();
    }
    for (const check of [...waiting]) check();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return state;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: "POST", agent, headers: { "content-type": "application/json", ...headers } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", () => resolve(0));
    req.end(body);
  });
}
