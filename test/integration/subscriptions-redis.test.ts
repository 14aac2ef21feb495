import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../graphql/gql.js";
import { databaseTargets } from "../helpers/databases.ts";
import type { TestGateway } from "../helpers/gateway.ts";
import { redisUrl, waitUntil } from "../helpers/redis.ts";
import { subscribeSSE } from "../helpers/sse.ts";
import { startTwoInstances, type TwoInstances } from "../helpers/two-instances.ts";
import { makeEvent, postWebhook } from "../helpers/webhooks.ts";

const PayoutStatus = graphql(`
  subscription PayoutStatus($connectionId: ID) {
    payoutUpdated(connectionId: $connectionId) { stripeId status }
  }
`);

// Two gateways share one PostgreSQL database and a private Redis, which the test stops and restarts.
const postgres = databaseTargets.find((target) => target.name === "postgres");
if (!postgres)
  console.warn("\n!!! TEST_DATABASE_URL is not set: the two-instance Redis tests are SKIPPED.\n");

describe.skipIf(!postgres || !redisUrl)("two instances over Redis (PostgreSQL)", () => {
  let world: TwoInstances;
  let clock: TwoInstances["clock"];
  let redis: TwoInstances["redis"];
  let probe: Redis;
  let a: TestGateway;
  let b: TestGateway;
  let org: TwoInstances["org"];
  let connection: TwoInstances["connection"];
  let payout: { id: string } & Record<string, unknown>;
  let step = 0;

  /** A signed payout.updated for the same payout, one second newer each time. */
  const update = (status: string) => {
    step += 1;
    return JSON.stringify(
      makeEvent(
        "payout.updated",
        { ...payout, status },
        { account: connection.account, created: Math.floor(clock.now() / 1000) + step },
      ),
    );
  };
  const deliver = (gateway: TestGateway, body: string) =>
    postWebhook(gateway.app, org.rawId, body, { timestamp: Math.floor(clock.now() / 1000) });
  const subscribers = async () => {
    const [, count] = (await probe.call("PUBSUB", "NUMSUB", "payout:updated")) as [string, number];
    return Number(count);
  };

  beforeAll(async () => {
    world = await startTwoInstances(postgres!);
    ({ clock, redis, a, b, org, connection } = world);
    probe = new Redis(redis.url, { maxRetriesPerRequest: null });
    probe.on("error", () => {}); // this test takes Redis down on purpose
    const row = await a.deps.db.prisma.stripePayout.findFirstOrThrow({ where: { status: "paid" } });
    payout = row.raw as typeof payout;
  }, 120_000);
  afterAll(async () => {
    probe?.disconnect();
    await world?.close();
  });

  it("delivers across instances, applies a doubly delivered event once, and survives Redis going away", async () => {
    const onB = await subscribeSSE(b.app, PayoutStatus, { connectionId: connection.id }, org.apiKey);
    const onA = await subscribeSSE(a.app, PayoutStatus, { connectionId: connection.id }, org.apiKey);
    try {
      // Each instance SUBSCRIBEs on Redis for its first subscriber of the topic; no event announces it.
      await waitUntil(async () => (await subscribers()) === 2, "both instances subscribed on Redis");

      // A webhook received by A reaches the subscriber on B.
      expect((await deliver(a, update("in_transit"))).json.outcome).toBe("applied");
      expect((await onB.next()).data?.payoutUpdated).toEqual({ stripeId: payout.id, status: "in_transit" });
      expect((await onA.next()).data?.payoutUpdated.status).toBe("in_transit");

      // The same event delivered to both instances at once is stored and applied once.
      const twice = update("paid");
      const outcomes = await Promise.all([deliver(a, twice), deliver(b, twice)]);
      expect(outcomes.map((response) => response.json.outcome).sort()).toEqual(["applied", "duplicate"]);
      const eventId = JSON.parse(twice).id as string;
      expect(await a.deps.db.prisma.stripeEvent.count({ where: { stripeId: eventId } })).toBe(1);
      expect((await onB.next()).data?.payoutUpdated.status).toBe("paid");
      expect((await onA.next()).data?.payoutUpdated.status).toBe("paid");

      // Redis goes away: webhooks are still acknowledged and applied, and A's own subscriber is served.
      await redis.stop();
      await waitUntil(
        () =>
          a.deps.pubsub.ping().then(
            () => false,
            () => true,
          ),
        "A notices that Redis is gone",
      );
      const readyz = await a.app.fetch(new Request("http://gateway.test/readyz"));
      expect(readyz.status).toBe(503);
      expect(await readyz.json()).toMatchObject({ checks: { database: "ok", redis: "down" } });
      const whileDown = await deliver(a, update("failed"));
      expect(whileDown).toEqual({ status: 200, json: { received: true, outcome: "applied" } });
      expect((await onA.next()).data?.payoutUpdated.status).toBe("failed");
      const stored = await b.deps.db.prisma.stripePayout.findFirstOrThrow({ where: { stripeId: payout.id } });
      expect(stored.status).toBe("failed");

      // Redis returns: both instances reconnect and resubscribe, and B hears of what happens next.
      await redis.start();
      await waitUntil(async () => (await subscribers().catch(() => 0)) === 2, "both instances resubscribed");
      await waitUntil(
        () =>
          a.deps.pubsub.ping().then(
            () => true,
            () => false,
          ),
        "A publishes to Redis again",
      );
      expect((await deliver(a, update("canceled"))).json.outcome).toBe("applied");
      // B missed the update made while Redis was down; its next event is the one after.
      expect((await onB.next()).data?.payoutUpdated.status).toBe("canceled");
      const ready = await b.app.fetch(new Request("http://gateway.test/readyz"));
      expect(ready.status).toBe(200);
    } finally {
      onA.close();
      onB.close();
    }
  });
});
