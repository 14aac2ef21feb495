import { randomBytes } from "node:crypto";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createScratchDatabase, databaseTargets } from "../helpers/databases.ts";
import { type StartedEmulator, startEmulator } from "../helpers/emulator.ts";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process.ts";
import { redisUrl, waitUntil } from "../helpers/redis.ts";
import { makeEvent, signatureFor, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

/** The PostgreSQL server when the run has one, else the run's embedded cluster. */
const target = databaseTargets.at(-1)!;
const ADMIN = "multi-instance-admin-key-0123456789";
const PUBLIC_URL = "https://gateway.test";

// biome-ignore lint/suspicious/noExplicitAny: GraphQL payloads of many shapes
type Json = Record<string, any>;

async function gql(url: string, query: string, variables: Json = {}, key?: string): Promise<Json> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Json;
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

describe.skipIf(!redisUrl)("two gateway processes sharing PostgreSQL and Redis", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let emulator: StartedEmulator;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let probe: Redis;
  let apiKey: string;
  let orgId: string;
  let connectionId: string;
  let account: string;

  const post = (gateway: GatewayProcess, body: string) =>
    fetch(`${gateway.url}/stripe/webhooks/${orgId}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": signatureFor(body, { timestamp: Math.floor(Date.now() / 1000) }),
      },
      body,
    }).then(async (response) => ({ status: response.status, json: (await response.json()) as Json }));
  const payoutEvent = (status: string, created: number) =>
    JSON.stringify(
      makeEvent(
        "payout.updated",
        {
          id: "po_multi_instance",
          object: "payout",
          amount: 12_345,
          currency: "usd",
          status,
          arrival_date: created + 86_400,
          created,
          automatic: false,
        },
        { account, created },
      ),
    );
  const subscribed = async (channel: string) =>
    Number(((await probe.call("PUBSUB", "NUMSUB", channel)) as [string, number])[1]);

  beforeAll(async () => {
    scratch = await createScratchDatabase(target);
    emulator = await startEmulator({
      accounts: 1,
      size: "small",
      rateLimits: false,
      platforms: [{ redirectUris: [`${PUBLIC_URL}/stripe/proxy/*`] }],
    });
    const env = {
      DATABASE_URL: scratch.url,
      REDIS_URL: redisUrl!,
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      ADMIN_API_KEY: ADMIN,
      PUBLIC_URL,
      STRIPE_API_URL: emulator.url,
      STRIPE_CONNECT_URL: emulator.url,
      STRIPE_MARKETPLACE_URL: emulator.url,
    };
    [a, b] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    probe = new Redis(redisUrl!);

    const created = await gql(
      a.url,
      `mutation { createOrg(input: { name: "Multi" }) { ... on CreateOrgSuccess { apiKey org { redirectUri } } } }`,
      {},
      ADMIN,
    );
    apiKey = created.createOrg.apiKey;
    orgId = created.createOrg.org.redirectUri.split("/")[5];
    const keys = emulator.emulator.platforms[0]!.keys.test;
    await gql(
      a.url,
      "mutation ($input: SetStripeConfigInput!) { setStripeConfig(input: $input) { __typename } }",
      { input: { clientId: keys.clientId, secretKey: keys.secretKey, webhookSigningSecret: WEBHOOK_SECRET } },
      apiKey,
    );
    const started = await gql(
      a.url,
      "mutation { startStripeConnection { ... on StartStripeConnectionSuccess { authorizationUrl connection { id } } } }",
      {},
      apiKey,
    );
    connectionId = started.startStripeConnection.connection.id;
    // The merchant's browser: Stripe's authorize page redirects to the gateway's public URL (here, A).
    const atStripe = await fetch(started.startStripeConnection.authorizationUrl, { redirect: "manual" });
    const callback = new URL(atStripe.headers.get("location")!);
    const back = await fetch(`${a.url}${callback.pathname}${callback.search}`, { redirect: "manual" });
    expect(back.status).toBeLessThan(400);
    const connection = await gql(
      b.url,
      "query ($id: ID!) { stripeConnection(id: $id) { stripeAccountId } }",
      { id: connectionId },
      apiKey,
    );
    account = connection.stripeConnection.stripeAccountId;
    expect(account).toMatch(/^acct_/);
    // The backfill announces every object it stores: let it finish, so the subscribers below hear
    // only of the webhooks this file sends.
    await waitUntil(
      async () =>
        (
          await gql(
            b.url,
            "query ($id: ID!) { stripeConnection(id: $id) { status } }",
            { id: connectionId },
            apiKey,
          )
        ).stripeConnection.status === "READY",
      "the connection is READY",
      90_000,
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop("SIGTERM"), b?.stop("SIGTERM")]);
    probe?.disconnect();
    await emulator?.close();
    await scratch?.drop();
  });

  it("delivers a webhook received by A to subscribers on B, over SSE and WebSocket", async () => {
    const before = await subscribed("payout:updated");
    const sse = createSseClient({ url: `${b.url}/graphql`, headers: { authorization: `Bearer ${apiKey}` } });
    const ws = createWsClient({
      url: `${b.url.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${apiKey}` },
      retryAttempts: 0,
    });
    try {
      const overSse = sse.iterate<Json>({
        query: "subscription ($id: ID) { payoutUpdated(connectionId: $id) { stripeId status amount } }",
        variables: { id: connectionId },
      });
      const overWs = ws.iterate<Json>({
        query: 'subscription { stripeEventReceived(types: ["payout.*"]) { stripeId type source } }',
      });
      const firstSse = overSse.next();
      const firstWs = overWs.next();
      // B SUBSCRIBEs on Redis asynchronously for its first subscriber of each topic: nothing announces it.
      await waitUntil(async () => (await subscribed("payout:updated")) > before, "B subscribed on Redis");
      await waitUntil(async () => (await subscribed("stripe-event:received")) > 0, "B subscribed to events");

      const created = Math.floor(Date.now() / 1000);
      const body = payoutEvent("in_transit", created);
      expect(await post(a, body)).toEqual({ status: 200, json: { received: true, outcome: "applied" } });
      expect((await firstSse).value?.data?.payoutUpdated).toEqual({
        stripeId: "po_multi_instance",
        status: "in_transit",
        amount: 12_345,
      });
      expect((await firstWs).value?.data?.stripeEventReceived).toEqual({
        stripeId: JSON.parse(body).id,
        type: "payout.updated",
        source: "webhook",
      });

      // The same event at both instances at once: stored once, applied once, published once.
      const twice = payoutEvent("paid", created + 1);
      const outcomes = await Promise.all([post(a, twice), post(b, twice)]);
      expect(outcomes.map((response) => response.status)).toEqual([200, 200]);
      expect(outcomes.map((response) => response.json.outcome).sort()).toEqual(["applied", "duplicate"]);
      expect((await overSse.next()).value?.data?.payoutUpdated.status).toBe("paid");
      expect((await overWs.next()).value?.data?.stripeEventReceived.stripeId).toBe(JSON.parse(twice).id);
      // Had it been published twice, the next message would repeat "paid" instead of this one.
      expect((await post(b, payoutEvent("failed", created + 2))).json.outcome).toBe("applied");
      expect((await overSse.next()).value?.data?.payoutUpdated.status).toBe("failed");

      await overSse.return?.();
      await overWs.return?.();
    } finally {
      sse.dispose();
      await ws.dispose();
    }
  });

  it("reports Redis in /readyz of each instance", async () => {
    for (const gateway of [a, b]) {
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(await ready.json()).toEqual({ status: "ok", checks: { database: "ok", redis: "ok" } });
    }
  });
});
