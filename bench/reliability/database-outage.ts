// Scenario 3: the gateway's PostgreSQL (a private instance) stopped for 30 s under a steady webhook load
// with Stripe-style retries, then started again. Figures: answers by status while up and down (only 5xx
// while down, never a 2xx for an event not stored), GraphQL and /readyz meanwhile, whether the same
// process serves again, and — comparing the database with what was sent — every event applied, 0 lost.
import type { GatewayProcess } from "./gateway-process.ts";
import type { Http } from "./http.ts";
import {
  graphqlProbe,
  newPeriods,
  type Periods,
  periodOf,
  readyzProbe,
  sortProbe,
  type Timeline,
} from "./outage.ts";
import { sleep } from "./phases.ts";
import { percentile, type Tally } from "./pool.ts";
import type { PrivatePostgres } from "./postgres.ts";
import { alive } from "./processes.ts";
import type { OrgWorld } from "./setup.ts";
import { startStripeSender } from "./stripe-sender.ts";

export type DatabaseOutageResults = {
  perSecond: number;
  downSeconds: number;
  stopMode: "immediate";
  webhooks: Periods;
  graphql: Periods;
  readyz: Periods;
  leaks: Tally;
  events: {
    sent: number;
    acknowledged: number;
    stored: number;
    applied: number;
    lost: number;
    acknowledgedNotStored: number;
  };
  attempts: { total: number; maxPerEvent: number };
  /** Events first sent while the database was down: seconds from their first attempt to their 2xx */
  outageDelivery: { events: number; p50: number; p99: number; max: number };
  recovery: {
    firstWebhook2xxSeconds: number | null;
    firstGraphql200Seconds: number | null;
    samePid: boolean;
    exit: string | null;
  };
};

export async function runDatabaseOutage(
  context: {
    http: Http;
    gateway: GatewayProcess;
    org: OrgWorld;
    postgres: PrivatePostgres;
    database: string;
  },
  options: { perSecond: number; downSeconds: number },
): Promise<DatabaseOutageResults> {
  const { http, gateway, org, postgres } = context;
  const sender = startStripeSender({
    http,
    gateway: gateway.url,
    org,
    perSecond: options.perSecond,
    payoutPrefix: "po_pgdown",
  });
  const graphql = graphqlProbe(http, gateway.url, org.apiKey, org.connectionId);
  const readyz = readyzProbe(http, gateway.url);
  await sleep(10_000);
  const stopBegan = Date.now();
  await postgres.stop("immediate");
  const stopped = Date.now();
  await sleep(options.downSeconds * 1000);
  const startBegan = Date.now();
  await postgres.start();
  const started = Date.now();
  const timeline: Timeline = { stopBegan, stopped, startBegan, started };
  await sleep(10_000);
  const { unacknowledged } = await sender.drain(60_000);
  await Promise.all([graphql.stop(), readyz.stop()]);

  const webhooks = newPeriods();
  for (const attempt of sender.attempts)
    webhooks[periodOf(timeline, attempt.sentAt, attempt.answeredAt)].add(
      attempt.status === 0 ? "no answer" : attempt.status,
    );
  const graphqlSorted = sortProbe(timeline, graphql.answers);
  const readyzSorted = sortProbe(timeline, readyz.answers);
  const leaks = graphqlSorted.leaks;
  for (const [leak, n] of Object.entries(readyzSorted.leaks.counts)) leaks.add(`/readyz ${leak}`, n);

  const events = [...sender.events.values()];
  const ids = events.map((event) => event.eventId);
  const stored = await postgres.query<{ stripeId: string; applied: boolean }>(
    context.database,
    `SELECT "stripeId", "appliedAt" IS NOT NULL AS applied FROM "StripeEvent" WHERE "orgId" = $1 AND "stripeId" = ANY($2)`,
    [org.orgId, ids],
  );
  const payouts = await postgres.query<{ stripeId: string }>(
    context.database,
    `SELECT "stripeId" FROM "StripePayout" WHERE "connectionId" = $1 AND "stripeId" = ANY($2)`,
    [org.connectionRowId, events.map((event) => event.payoutId)],
  );
  const storedIds = new Set(stored.map((row) => row.stripeId));
  const appliedIds = new Set(stored.filter((row) => row.applied).map((row) => row.stripeId));
  const payoutIds = new Set(payouts.map((row) => row.stripeId));
  const applied = events.filter((event) => appliedIds.has(event.eventId) && payoutIds.has(event.payoutId));
  const outageEvents = events.filter(
    (event) => event.firstSentAt >= stopped && event.firstSentAt <= startBegan && event.ackedAt,
  );
  const delays = outageEvents.map((event) => (event.ackedAt! - event.firstSentAt) / 1000);
  const firstAfter = (answers: { sentAt: number; status: number }[]) => {
    const first = answers
      .filter((a) => a.sentAt >= started && a.status >= 200 && a.status < 300)
      .sort((a, b) => a.sentAt - b.sentAt)[0];
    return first ? (first.sentAt - started) / 1000 : null;
  };
  return {
    perSecond: options.perSecond,
    downSeconds: options.downSeconds,
    stopMode: "immediate",
    webhooks,
    graphql: graphqlSorted.periods,
    readyz: readyzSorted.periods,
    leaks,
    events: {
      sent: events.length,
      acknowledged: events.length - unacknowledged,
      stored: storedIds.size,
      applied: applied.length,
      lost: events.length - applied.length,
      acknowledgedNotStored: events.filter((event) => event.ackedAt && !storedIds.has(event.eventId)).length,
    },
    attempts: {
      total: sender.attempts.length,
      maxPerEvent: Math.max(0, ...events.map((event) => event.attempts)),
    },
    outageDelivery: {
      events: outageEvents.length,
      p50: percentile(delays, 0.5),
      p99: percentile(delays, 0.99),
      max: Math.max(0, ...delays),
    },
    recovery: {
      firstWebhook2xxSeconds: firstAfter(sender.attempts),
      firstGraphql200Seconds: firstAfter(graphql.answers.filter((a) => !a.body.includes('"errors"'))),
      samePid: gateway.exit() === null && alive(gateway.pid),
      exit: gateway.exit(),
    },
  };
}
