// Rate limits (issue 13, item 3): a token bucket per credential on /graphql (HTTP, SSE, WebSocket), per org on
// the webhook and OAuth redirect routes, shared through Redis when REDIS_URL is set. The buckets go by the
// gateway's clock, which only the test moves: nothing here depends on how fast the machine is.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type App, createApp } from "../../src/app.ts";
import { createDeps, type Deps } from "../../src/deps.ts";
import { attachWebSocket } from "../../src/http/websocket.ts";
import { createLogger } from "../../src/logger.ts";
import { createApiKey } from "../../src/orgs/api-keys.ts";
import { createOrg } from "../../src/orgs/orgs.ts";
import { graphql } from "../graphql/gql.js";
import { ConfigureStripe } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { redisUrl, startScratchRedis, waitUntil } from "../helpers/redis.ts";
import { makeEvent, signatureFor, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

const RateLimitedViewer = graphql(`
  query RateLimitedViewer { viewer { id } }
`);

const RateLimitedConnections = graphql(`
  query RateLimitedConnections { stripeConnections(first: 1) { edges { node { id } } } }
`);

const RateLimitedPayouts = graphql(`
  subscription RateLimitedPayouts { payoutUpdated { stripeId } }
`);

const RateLimitAccessToken = graphql(`
  mutation RateLimitAccessToken {
    createAccessToken(input: { connectionIds: [], allowConnect: true }) {
      __typename
      ... on CreateAccessTokenSuccess { token }
    }
  }
`);

/** Long enough that the API-key cache never reads again during a test: the counts below are the limiter's. */
const CACHE_FOREVER_MS = 10 * 60_000;

/** A clock only the test moves. */
function manualClock() {
  let nowMs = Date.parse("2030-01-01T00:00:00Z");
  return {
    clock: { now: () => new Date(nowMs) },
    seconds: () => Math.floor(nowMs / 1000),
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

/** POSTs a document to /graphql through app.fetch, keeping the response's status and headers. */
async function post(app: App, query: string, key: string, accept = "application/json") {
  return app.fetch(
    new Request("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept, authorization: `Bearer ${key}` },
      body: JSON.stringify({ query }),
    }),
  );
}

type Errors = { errors?: { message: string; extensions?: Record<string, unknown> }[] };

/** The SQL statements `run` makes through the gateway's database. */
async function statementsOf(deps: Deps, run: () => Promise<unknown>): Promise<string[]> {
  const statements: string[] = [];
  const stop = deps.db.onQuery((sql) => statements.push(sql));
  try {
    await run();
  } finally {
    stop();
  }
  return statements;
}

describe.each(databaseTargets)("rate limits on $name", (target) => {
  const time = manualClock();
  let gateway: TestGateway;
  const deps = () => gateway.deps;
  const newOrg = async (name: string) => {
    const { org, apiKey } = await createOrg(deps().db.prisma, { name }, deps().pubsub);
    return { id: org.id, apiKey };
  };
  const viewer = (key: string) => post(gateway.app, print(RateLimitedViewer), key);

  beforeAll(async () => {
    gateway = await startTestGateway(
      target,
      {
        RATE_LIMIT_API_KEY_BURST: "3",
        RATE_LIMIT_API_KEY_PER_SECOND: "0.5",
        RATE_LIMIT_ACCESS_TOKEN_BURST: "2",
        RATE_LIMIT_ACCESS_TOKEN_PER_SECOND: "0.25",
        RATE_LIMIT_WEBHOOK_BURST: "4",
        RATE_LIMIT_WEBHOOK_PER_SECOND: "2",
        RATE_LIMIT_OAUTH_BURST: "2",
        RATE_LIMIT_OAUTH_PER_SECOND: "1",
      },
      { clock: time.clock, cacheMaxAgeMs: CACHE_FOREVER_MS },
    );
  }, 60_000);
  afterAll(() => gateway?.close());
  // Every bucket is full again at the start of each test.
  beforeEach(() => time.advance(3_600_000));

  it("passes an API key's burst, refuses one more with 429, Retry-After and RATE_LIMITED, and refills", async () => {
    const org = await newOrg("Burst");
    for (let i = 0; i < 3; i++) expect((await viewer(org.apiKey)).status).toBe(200);

    let refused!: Response;
    const statements = await statementsOf(deps(), async () => {
      refused = await viewer(org.apiKey);
    });
    expect(refused.status).toBe(429);
    // 0.5 a second: the next token is 2 s away.
    expect(refused.headers.get("retry-after")).toBe("2");
    const body = (await refused.json()) as Errors & { data?: unknown };
    expect(body.data).toBeUndefined();
    expect(body.errors).toEqual([
      {
        message: "Too many requests for this API key: retry in 2 s.",
        extensions: { code: "RATE_LIMITED", retryAfterSeconds: 2 },
      },
    ]);
    // Refused before execution: nothing was read.
    expect(statements).toEqual([]);

    time.advance(1_999);
    expect((await viewer(org.apiKey)).status).toBe(429);
    expect((await viewer(org.apiKey)).headers.get("retry-after")).toBe("1");
    time.advance(1);
    const recovered = await viewer(org.apiKey);
    expect(recovered.status).toBe(200);
    expect(((await recovered.json()) as { data: unknown }).data).toEqual({
      viewer: { id: expect.any(String) },
    });
    expect((await viewer(org.apiKey)).status).toBe(429);
  });

  it("gives every key its own bucket: one key's flood limits neither another key of its org nor another org", async () => {
    const flooded = await newOrg("Flooded");
    const other = await newOrg("Other");
    const { apiKey: secondKey } = await createApiKey(
      { prisma: deps().db.prisma, pubsub: deps().pubsub },
      flooded.id,
      { name: "second" },
    );
    for (let i = 0; i < 10; i++) await viewer(flooded.apiKey);
    expect((await viewer(flooded.apiKey)).status).toBe(429);

    for (const key of [secondKey, other.apiKey, ADMIN_KEY]) {
      const response = await post(gateway.app, "{ __typename }", key);
      expect(response.status, key === ADMIN_KEY ? "admin" : "API key").toBe(200);
    }
  });

  it("gives a browser access token its own, smaller limit, apart from its org's API key", async () => {
    const org = await newOrg("Browser");
    const created = await gateway.gql(RateLimitAccessToken, {}, org.apiKey);
    const result = created.data?.createAccessToken;
    if (result?.__typename !== "CreateAccessTokenSuccess") throw new Error(JSON.stringify(created));
    const connections = () => post(gateway.app, print(RateLimitedConnections), result.token);

    for (let i = 0; i < 2; i++) expect((await connections()).status).toBe(200);
    const refused = await connections();
    expect(refused.status).toBe(429);
    // 0.25 a second: 4 s to the next token.
    expect(refused.headers.get("retry-after")).toBe("4");
    expect(((await refused.json()) as Errors).errors?.[0]).toEqual({
      message: "Too many requests for this access token: retry in 4 s.",
      extensions: { code: "RATE_LIMITED", retryAfterSeconds: 4 },
    });
    // The org's key used one token of its own three (the mutation above).
    expect((await viewer(org.apiKey)).status).toBe(200);
    time.advance(4_000);
    expect((await connections()).status).toBe(200);
  });

  it("counts SSE and WebSocket operations against the same bucket, refused the same way", async () => {
    const org = await newOrg("Streams");
    for (let i = 0; i < 3; i++) await viewer(org.apiKey);

    const sse = await post(gateway.app, print(RateLimitedPayouts), org.apiKey, "text/event-stream");
    expect(sse.status).toBe(429);
    expect(sse.headers.get("retry-after")).toBe("2");
    expect(await sse.text()).toContain('"code":"RATE_LIMITED"');

    const server = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: gateway.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
        resolve(started as Server),
      ) as Server;
    });
    const websocket = attachWebSocket(server, gateway.app.graphql, deps());
    const client = createClient({
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${org.apiKey}` },
      retryAttempts: 0,
      lazy: true,
    });
    try {
      const failure = await client
        .iterate({ query: print(RateLimitedPayouts) })
        .next()
        .then(
          () => null,
          (errors: unknown) => errors,
        );
      expect(failure).toEqual([
        expect.objectContaining({
          message: "Too many requests for this API key: retry in 2 s.",
          extensions: expect.objectContaining({ code: "RATE_LIMITED", retryAfterSeconds: 2 }),
        }),
      ]);
      // Refilled: the next subscription over the same socket starts.
      time.advance(2_000);
      const query = await client.iterate({ query: print(RateLimitedViewer) }).next();
      expect(query.value?.data).toEqual({ viewer: { id: expect.any(String) } });
    } finally {
      await client.dispose();
      await websocket.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  describe("per org on the REST routes", () => {
    /** A signed event of no connected account: acknowledged (200, ignored) once it is verified. */
    const deliver = (orgId: string) => {
      const body = JSON.stringify(
        makeEvent("payout.updated", { id: "po_rate" }, { account: null, created: time.seconds() }),
      );
      return gateway.app.fetch(
        new Request(`https://gateway.test/stripe/webhooks/${orgId}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "stripe-signature": signatureFor(body, { timestamp: time.seconds() }),
          },
          body,
        }),
      );
    };
    const redirect = (orgId: string) =>
      gateway.app.fetch(
        new Request(`https://gateway.test/stripe/proxy/${orgId}/redirect?error=access_denied&state=unknown`),
      );

    it("lets an org's webhook burst through, then answers 429 with Retry-After before any lookup", async () => {
      const org = await newOrg("Webhooks");
      const other = await newOrg("Other webhooks");
      const configured = await gateway.gql(
        ConfigureStripe,
        { input: { clientId: "ca_rate", secretKey: "sk_test_rate", webhookSigningSecret: WEBHOOK_SECRET } },
        org.apiKey,
      );
      expect(configured.data?.setStripeConfig.__typename).toBe("SetStripeConfigSuccess");

      for (let i = 0; i < 4; i++) {
        const answer = await deliver(org.id);
        expect(answer.status).toBe(200);
        expect(await answer.json()).toEqual({ received: true, outcome: "ignored" });
      }
      let refused!: Response;
      const statements = await statementsOf(deps(), async () => {
        refused = await deliver(org.id);
      });
      expect(refused.status).toBe(429);
      // 2 a second: 500 ms to the next token, said as a whole second.
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await refused.json()).toEqual({
        error: { code: "RATE_LIMITED", message: "Too many webhook deliveries for this org: retry in 1 s." },
      });
      expect(statements).toEqual([]);

      // Another org's route, and the flooded org's API key, have buckets of their own.
      const elsewhere = await deliver(other.id);
      expect(elsewhere.status).toBe(400);
      expect(((await elsewhere.json()) as { error: { code: string } }).error.code).toBe(
        "WEBHOOK_SECRET_NOT_CONFIGURED",
      );
      expect((await viewer(org.apiKey)).status).toBe(200);

      time.advance(500);
      expect((await deliver(org.id)).status).toBe(200);
      expect((await deliver(org.id)).status).toBe(429);
    });

    it("limits an org's OAuth redirects with a page that says when to retry, before any lookup", async () => {
      const org = await newOrg("Redirects");
      const other = await newOrg("Other redirects");
      for (let i = 0; i < 2; i++) expect((await redirect(org.id)).status).toBe(400);
      let refused!: Response;
      const statements = await statementsOf(deps(), async () => {
        refused = await redirect(org.id);
      });
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(refused.headers.get("content-type")).toContain("text/html");
      expect(refused.headers.get("cache-control")).toBe("no-store");
      expect(await refused.text()).toContain("Reload this page in 1 s.");
      expect(statements).toEqual([]);

      expect((await redirect(other.id)).status).toBe(400);
      time.advance(1_000);
      expect((await redirect(org.id)).status).toBe(400);
      expect((await redirect(org.id)).status).toBe(429);
    });

    it("puts path segments that cannot be org ids in one bucket, so made-up ids cannot make buckets", async () => {
      const junk = (i: number) => `${"x".repeat(80)}${i}`;
      expect((await redirect(junk(1))).status).toBe(404);
      expect((await redirect(junk(2))).status).toBe(404);
      expect((await redirect(junk(3))).status).toBe(429);
      // A well-formed unknown id has a bucket of its own (and it vanishes once refilled).
      expect((await redirect("org_000000000000000000000000")).status).toBe(404);
    });
  });
});

describe.skipIf(!redisUrl).each(databaseTargets)("a limit shared through Redis on $name", (target) => {
  const shared = manualClock();
  let first: TestGateway;
  let second: { deps: Deps; app: App };
  let probe: Redis;

  beforeAll(async () => {
    const overrides = { clock: shared.clock, cacheMaxAgeMs: CACHE_FOREVER_MS };
    // One token every 1,000 s: the Redis key's expiry (real time) cannot run out during the test.
    first = await startTestGateway(
      target,
      { REDIS_URL: redisUrl!, RATE_LIMIT_API_KEY_BURST: "4", RATE_LIMIT_API_KEY_PER_SECOND: "0.001" },
      overrides,
    );
    const deps = await createDeps(first.deps.config, {
      ...overrides,
      database: first.deps.db,
      logger: createLogger({ level: "silent" }),
    });
    second = { deps, app: createApp(deps) };
    probe = new Redis(redisUrl!);
    await waitUntil(
      () => first.deps.rateLimits.shared() && second.deps.rateLimits.shared(),
      "both instances reach Redis",
    );
  }, 60_000);
  afterAll(async () => {
    probe?.disconnect();
    await second?.deps.close();
    await first?.close();
  });

  it("holds one limit for a key across two instances", async () => {
    const { org, apiKey } = await createOrg(
      first.deps.db.prisma,
      { name: "Two instances" },
      first.deps.pubsub,
    );
    const on = (app: App) => post(app, print(RateLimitedViewer), apiKey);
    expect((await on(first.app)).status).toBe(200);
    expect((await on(second.app)).status).toBe(200);
    expect((await on(first.app)).status).toBe(200);
    expect((await on(second.app)).status).toBe(200);
    const refusedFirst = await on(first.app);
    const refusedSecond = await on(second.app);
    expect([refusedFirst.status, refusedSecond.status]).toEqual([429, 429]);
    expect(refusedSecond.headers.get("retry-after")).toBe("1000");

    // The bucket is one key in Redis, which expires once it would be full again.
    const keyId = (await first.deps.db.prisma.apiKey.findFirstOrThrow({ where: { orgId: org.id } })).id;
    const ttl = await probe.pttl(`ratelimit:apiKey:${keyId}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(4_000_000);

    shared.advance(1_000_000);
    expect((await on(second.app)).status).toBe(200);
    expect((await on(first.app)).status).toBe(429);
  });
});

describe.skipIf(!redisUrl)("rate limits while Redis is away", () => {
  const time = manualClock();
  let redis: Awaited<ReturnType<typeof startScratchRedis>>;
  let gateway: TestGateway;

  beforeAll(async () => {
    redis = await startScratchRedis();
    gateway = await startTestGateway(
      databaseTargets[0]!,
      { REDIS_URL: redis.url, RATE_LIMIT_API_KEY_BURST: "3", RATE_LIMIT_API_KEY_PER_SECOND: "0.001" },
      { clock: time.clock, cacheMaxAgeMs: CACHE_FOREVER_MS },
    );
    await waitUntil(() => gateway.deps.rateLimits.shared(), "the gateway reaches Redis");
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
  });

  it("counts in the instance's own buckets, never failing a request, logs it once, and shares again after", async () => {
    const { apiKey } = await createOrg(gateway.deps.db.prisma, { name: "Outage" }, gateway.deps.pubsub);
    const viewer = () => post(gateway.app, print(RateLimitedViewer), apiKey);
    expect((await viewer()).status).toBe(200);
    expect((await viewer()).status).toBe(200);

    await redis.stop();
    await waitUntil(() => !gateway.deps.rateLimits.shared(), "the gateway sees Redis gone");
    // A full local bucket: three more pass, the fourth is refused by this instance alone.
    for (let i = 0; i < 3; i++) expect((await viewer()).status).toBe(200);
    expect((await viewer()).status).toBe(429);
    const outage = "Redis unreachable: rate limits are counted by each instance alone";
    expect(gateway.logs().split(outage).length - 1).toBe(1);

    await redis.start();
    await waitUntil(() => gateway.deps.rateLimits.shared(), "the gateway reaches Redis again");
    // The new Redis holds no bucket for the key: a full one.
    expect((await viewer()).status).toBe(200);
    expect(gateway.logs()).toContain("Redis answers again: rate limits are shared across instances");
    expect(gateway.logs().split(outage).length - 1).toBe(1);
  }, 60_000);
});
