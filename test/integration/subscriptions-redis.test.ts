import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClock } from "../../src/emulator/clock.ts";
import { graphql } from "../graphql/gql.js";
import {
  ConfigureStripe,
  type ConnectWorld,
  CreateOrgDoc,
  connectAccount,
  PUBLIC_URL,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { type StartedEmulator, startEmulator } from "../helpers/emulator.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { redisUrl, startScratchRedis, waitUntil } from "../helpers/redis.ts";
import { subscribeSSE } from "../helpers/sse.ts";
import { makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

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
  const clock = createClock();
  let emulator: StartedEmulator;
  let redis: Awaited<ReturnType<typeof startScratchRedis>>;
  let probe: Redis;
  let a: TestGateway;
  let b: TestGateway;
  let org: { apiKey: string; rawId: string };
  let connection: { id: string; account: string };
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
    emulator = await startEmulator({
      clock,
      accounts: 1,
      size: "small",
      rateLimits: false,
      platforms: [{ redirectUris: [`${PUBLIC_URL}/stripe/proxy/*`] }],
    });
    redis = await startScratchRedis();
    probe = new Redis(redis.url, { maxRetriesPerRequest: null });
    probe.on("error", () => {}); // this test takes Redis down on purpose
    const env = {
      STRIPE_API_URL: emulator.url,
      STRIPE_CONNECT_URL: emulator.url,
      STRIPE_MARKETPLACE_URL: emulator.url,
      REDIS_URL: redis.url,
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    };
    const overrides = { clock: { now: () => new Date(clock.now()) } };
    a = await startTestGateway(postgres!, env, overrides);
    b = await startTestGateway(postgres!, { ...env, DATABASE_URL: a.deps.config.databaseUrl! }, overrides);

    const created = (await a.gql(CreateOrgDoc, { name: "Two instances" }, ADMIN_KEY)).data?.createOrg;
    if (!created || !("apiKey" in created)) throw new Error("createOrg failed");
    org = { apiKey: created.apiKey, rawId: created.org.redirectUri.split("/")[5]! };
    const keys = emulator.emulator.platforms[0]!.keys.test;
    await a.gql(
      ConfigureStripe,
      { input: { clientId: keys.clientId, secretKey: keys.secretKey, webhookSigningSecret: WEBHOOK_SECRET } },
      org.apiKey,
    );
    const world = { emulator, gateway: a, clock, oauthCalls: [] } as unknown as ConnectWorld;
    const account = emulator.emulator.accountIds[0]!;
    connection = { id: (await connectAccount(world, org.apiKey, account)).id, account };
    await a.deps.sync.idle();
    const row = await a.deps.db.prisma.stripePayout.findFirstOrThrow({ where: { status: "paid" } });
    payout = row.raw as typeof payout;
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    probe?.disconnect();
    await redis?.stop();
    await emulator?.close();
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
