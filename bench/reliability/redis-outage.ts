// Scenario 4: the gateway's Redis (a private instance) killed and started again under a steady webhook
// load, with a graphql-sse subscriber to payoutUpdated on the same instance. Figures by period: webhook
// acknowledgements (unchanged while Redis is down), what the local subscriber heard, GraphQL and /readyz.
import { createClient } from "graphql-sse";
import type { GatewayProcess } from "./gateway-process.ts";
import { type Http, recordingFetch, type Transcript } from "./http.ts";
import {
  graphqlProbe,
  newPeriods,
  type Period,
  type Periods,
  periodOf,
  readyzProbe,
  sortProbe,
  type Timeline,
} from "./outage.ts";
import { sleep, until } from "./phases.ts";
import { percentile, type Tally } from "./pool.ts";
import type { PrivateRedis } from "./redis.ts";
import type { OrgWorld } from "./setup.ts";
import { startStripeSender } from "./stripe-sender.ts";
import { payoutDelivery, signatureHeader } from "./webhook-signing.ts";

type PeriodFigures = {
  acknowledged: number;
  heard: number;
  ackP50Ms: number;
  ackP99Ms: number;
  heardP99Ms: number;
};

export type RedisOutageResults = {
  perSecond: number;
  downSeconds: number;
  webhooks: Periods;
  byPeriod: Record<Period, PeriodFigures>;
  graphql: Periods;
  readyz: Periods;
  leaks: Tally;
  /** Seconds from Redis answering again to /readyz reporting it up */
  readyzRecoveredSeconds: number | null;
  samePid: boolean;
};

export async function runRedisOutage(
  context: {
    http: Http;
    transcript: Transcript;
    gateway: GatewayProcess;
    org: OrgWorld;
    redis: PrivateRedis;
  },
  options: { perSecond: number; downSeconds: number },
): Promise<RedisOutageResults> {
  const { http, gateway, org, redis } = context;
  const heard = new Map<string, number>();
  const client = createClient({
    url: `${gateway.url}/graphql`,
    headers: { authorization: `Bearer ${org.apiKey}` },
    fetchFn: recordingFetch(context.transcript, "gateway"),
    retryAttempts: 0,
  });
  const listening = (async () => {
    for await (const result of client.iterate<{ payoutUpdated: { stripeId: string } }>({
      query: "subscription($id: ID) { payoutUpdated(connectionId: $id) { stripeId status } }",
      variables: { id: org.connectionId },
    })) {
      const id = result.data?.payoutUpdated.stripeId;
      if (id && !heard.has(id)) heard.set(id, Date.now());
    }
  })().catch(() => {});
  try {
    // Subscribed once it hears a warm-up payout (nothing else announces that a subscriber is ready).
    await until(
      "the subscriber hears a warm-up payout",
      async () => {
        const warm = payoutDelivery(org.account, "po_warm");
        await http.request(`${gateway.url}${org.webhookPath}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "stripe-signature": signatureHeader(warm.body, org.signingSecret),
          },
          body: warm.body,
        });
        await sleep(300);
        return [...heard.keys()].some((id) => id.startsWith("po_warm")) ? true : undefined;
      },
      30_000,
      0,
    );
    const sender = startStripeSender({
      http,
      gateway: gateway.url,
      org,
      perSecond: options.perSecond,
      payoutPrefix: "po_redisdown",
    });
    const graphql = graphqlProbe(http, gateway.url, org.apiKey, org.connectionId);
    const readyz = readyzProbe(http, gateway.url);
    await sleep(8_000);
    const stopBegan = Date.now();
    await redis.kill();
    const stopped = Date.now();
    await sleep(options.downSeconds * 1000);
    const startBegan = Date.now();
    await redis.start();
    const started = Date.now();
    const timeline: Timeline = { stopBegan, stopped, startBegan, started };
    const recovered = await until(
      "/readyz reports Redis up",
      async () =>
        readyz.answers.some((a) => a.sentAt >= started && a.status === 200) ? Date.now() : undefined,
      20_000,
      100,
    ).catch(() => null);
    await sleep(8_000);
    await sender.drain(20_000);
    await sleep(2_000); // the last payouts reach the subscriber
    await Promise.all([graphql.stop(), readyz.stop()]);

    const webhooks = newPeriods();
    const byPeriod = {} as Record<Period, PeriodFigures>;
    const first = new Map(sender.attempts.filter((a) => a.attempt === 1).map((a) => [a.eventId, a]));
    const periods: Period[] = ["before", "down", "after", "transition"];
    for (const period of periods) {
      const acked = [...sender.events.values()].filter((event) => {
        const attempt = first.get(event.eventId);
        return (
          attempt &&
          periodOf(timeline, attempt.sentAt, attempt.answeredAt) === period &&
          event.ackedAt &&
          event.attempts === 1
        );
      });
      const ackMs = acked.map((event) => {
        const attempt = first.get(event.eventId)!;
        return attempt.answeredAt - attempt.sentAt;
      });
      const heardMs = acked
        .filter((event) => heard.has(event.payoutId))
        .map((event) => heard.get(event.payoutId)! - event.firstSentAt);
      byPeriod[period] = {
        acknowledged: acked.length,
        heard: heardMs.length,
        ackP50Ms: percentile(ackMs, 0.5),
        ackP99Ms: percentile(ackMs, 0.99),
        heardP99Ms: percentile(heardMs, 0.99),
      };
    }
    for (const attempt of sender.attempts)
      webhooks[periodOf(timeline, attempt.sentAt, attempt.answeredAt)].add(
        attempt.status === 0 ? "no answer" : attempt.status,
      );
    const graphqlSorted = sortProbe(timeline, graphql.answers);
    const readyzSorted = sortProbe(timeline, readyz.answers);
    const leaks = graphqlSorted.leaks;
    for (const [leak, n] of Object.entries(readyzSorted.leaks.counts)) leaks.add(`/readyz ${leak}`, n);
    return {
      perSecond: options.perSecond,
      downSeconds: options.downSeconds,
      webhooks,
      byPeriod,
      graphql: graphqlSorted.periods,
      readyz: readyzSorted.periods,
      leaks,
      readyzRecoveredSeconds: recovered === null ? null : (recovered - started) / 1000,
      samePid: gateway.exit() === null,
    };
  } finally {
    client.dispose();
    await Promise.race([listening, sleep(2_000)]);
  }
}
