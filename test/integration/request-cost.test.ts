// The fixed cost of a request (issue 12, item 1): API keys, webhook signing secrets and connection routing
// come from memory (src/orgs/cache.ts), every write that changes them invalidates them on every instance,
// and whatever an invalidation misses is read again once its entry is CACHE_MAX_AGE_MS old.
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps.ts";
import { createLogger } from "../../src/logger.ts";
import { parseApiKey, revokeApiKey, sha256 } from "../../src/orgs/api-keys.ts";
import { CACHE_MAX_AGE_MS, createGatewayCache } from "../../src/orgs/cache.ts";
import { createPubSub } from "../../src/pubsub.ts";
import { graphql } from "../graphql/gql.js";
import {
  ConfigureStripe,
  type ConnectWorld,
  CreateOrgDoc,
  connectAccount,
  connectedOrg,
  DisconnectConnection,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { eventually } from "../helpers/eventually.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { redisUrl, startScratchRedis, waitUntil } from "../helpers/redis.ts";
import { eventFixture, makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

const ViewerId = graphql(`
  query ViewerId { viewer { id } }
`);

const PayoutPage = graphql(`
  query PayoutPage($id: ID!, $first: Int) {
    stripeConnection(id: $id) {
      id
      payouts(first: $first) { edges { node { stripeId amount currency status arrivalDate created } } }
    }
  }
`);

const PayoutStatusPage = graphql(`
  query PayoutStatusPage($id: ID!, $first: Int) {
    stripeConnection(id: $id) {
      status
      payouts(first: $first) { edges { node { stripeId } } }
    }
  }
`);

/** Long enough that only an invalidation, never the max age, can explain what a test sees. */
const FOREVER_MS = 10 * 60_000;

/** The statements that look up credentials, config or routing (what the cache is for). */
const LOOKUP = /"public"\."(ApiKey|Org|StripeConfig|StripeConnection)"/;

/** Every SQL statement `run` makes through the gateway's database. */
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

/**
 * Swaps the gateway's cache for one whose entries never expire during the test, so that the counts below
 * cannot depend on how fast the machine is, and an invalidation alone must explain every change seen.
 */
function neverExpiringCache(deps: Deps) {
  deps.cache.close();
  deps.cache = createGatewayCache(
    { prisma: deps.db.prisma, secrets: deps.secrets, pubsub: deps.pubsub },
    { maxAgeMs: FOREVER_MS },
  );
}

describe.each(databaseTargets)("the fixed cost of a request on $name", (target) => {
  let world: ConnectWorld;
  let connected: Awaited<ReturnType<typeof connectedOrg>>;
  let payout: Record<string, unknown> & { id: string };
  let step = 0;

  const deps = () => world.gateway.deps;
  /** A signed payout.updated for `account`, newer each time. */
  const payoutUpdate = (account: string, options: { secret?: string } = {}) => {
    step += 1;
    const event = makeEvent(
      "payout.updated",
      { ...payout, status: step % 2 ? "paid" : "in_transit" },
      { account, created: world.clock.seconds() + step },
    );
    return postWebhook(world.gateway.app, connected.rawId, JSON.stringify(event), {
      timestamp: world.clock.seconds(),
      secret: options.secret,
    });
  };

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 3, size: "tiny", seed: "request-cost" });
    neverExpiringCache(world.gateway.deps);
    connected = await connectedOrg(world, { name: "Request cost", webhookSigningSecret: WEBHOOK_SECRET });
    const row = await deps().db.prisma.stripePayout.findFirstOrThrow({
      where: { connectionId: connected.connection.rowId },
    });
    payout = row.raw as typeof payout;
  }, 120_000);
  afterAll(async () => {
    world?.gateway.deps.cache.close();
    await world?.close();
  });

  it("authenticates a key it has seen without a SQL statement, and refuses wrong secrets without one too", async () => {
    await world.gateway.gql(ViewerId, {}, connected.apiKey);
    let data: unknown;
    const second = await statementsOf(deps(), async () => {
      ({ data } = await world.gateway.gql(ViewerId, {}, connected.apiKey));
    });
    expect(data).toEqual({ viewer: { id: connected.org.id } });
    expect(second).toEqual([]);

    // The key's id with another secret: refused from memory, whatever is guessed.
    const { id } = parseApiKey(connected.apiKey)!;
    const guess = `cgw_${id}_${randomBytes(32).toString("base64url")}`;
    const guessed = await statementsOf(deps(), async () => {
      expect((await world.gateway.gql(ViewerId, {}, guess)).status).toBe(401);
    });
    expect(guessed).toEqual([]);

    // An unknown key costs one lookup, then none.
    const unknown = `cgw_key_${randomBytes(9).toString("base64url")}_${randomBytes(32).toString("base64url")}`;
    const first = await statementsOf(deps(), () => world.gateway.gql(ViewerId, {}, unknown));
    expect(first.filter((sql) => LOOKUP.test(sql)).length).toBeGreaterThan(0);
    const again = await statementsOf(deps(), async () => {
      expect((await world.gateway.gql(ViewerId, {}, unknown)).status).toBe(401);
    });
    expect(again).toEqual([]);
  });

  it("answers stripeConnection → payouts(first: 10) with one statement: the page's", async () => {
    const variables = { id: connected.connection.id, first: 10 };
    await world.gateway.gql(PayoutPage, variables, connected.apiKey);
    let page: {
      errors?: unknown;
      data?: { stripeConnection: { id: string; payouts: { edges: unknown[] } } | null } | null;
    };
    const statements = await statementsOf(deps(), async () => {
      page = await world.gateway.gql(PayoutPage, variables, connected.apiKey);
    });
    expect(page!.errors).toBeUndefined();
    expect(page!.data?.stripeConnection?.id).toBe(connected.connection.id);
    expect(page!.data?.stripeConnection?.payouts.edges.length).toBe(10);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('"StripePayout"');

    // Asking for a column of the connection reads its row, as before.
    const withStatus = await statementsOf(deps(), async () => {
      const { data } = await world.gateway.gql(PayoutStatusPage, variables, connected.apiKey);
      expect(data?.stripeConnection?.status).toBe("READY");
    });
    expect(withStatus[0]).toContain('FROM "public"."StripeConnection"');
    expect(withStatus).toHaveLength(2);
  });

  it("answers null for another org's connection, from memory as from the database", async () => {
    const other = await connectedOrg(world, { name: "Request cost, other org" });
    const variables = { id: other.connection.id, first: 10 };
    for (let attempt = 0; attempt < 2; attempt++) {
      const { data, errors } = await world.gateway.gql(PayoutPage, variables, connected.apiKey);
      expect(errors).toBeUndefined();
      expect(data).toEqual({ stripeConnection: null });
    }
    const own = await world.gateway.gql(PayoutPage, variables, other.apiKey);
    expect(own.data?.stripeConnection?.payouts.edges.length).toBe(10);
  });

  it("receives a webhook of a known org and account with the statements of its transaction only", async () => {
    expect((await payoutUpdate(connected.account)).json.outcome).toBe("applied");
    let outcome: string | undefined;
    const statements = await statementsOf(deps(), async () => {
      outcome = (await payoutUpdate(connected.account)).json.outcome;
    });
    expect(outcome).toBe("applied");
    expect(statements.filter((sql) => LOOKUP.test(sql))).toEqual([]);
    expect(statements.filter((sql) => /COMMIT/.test(sql))).toHaveLength(1);
  });

  it("stops routing to a connection the moment it is disconnected", async () => {
    const account = world.emulator.emulator.accountIds[1]!;
    const second = await connectAccount(world, connected.apiKey, account);
    await deps().sync.idle();
    expect((await payoutUpdate(account)).json.outcome).toBe("applied");
    const disconnected = await world.gateway.gql(DisconnectConnection, { id: second.id }, connected.apiKey);
    expect(disconnected.data?.disconnectStripeConnection.__typename).toBe(
      "DisconnectStripeConnectionSuccess",
    );
    expect(await payoutUpdate(account)).toEqual({
      status: 200,
      json: { received: true, outcome: "ignored" },
    });
    const delivered = { connectionId: second.rowId, source: "webhook" };
    expect(await deps().db.prisma.stripeEvent.count({ where: delivered })).toBe(1);
  });

  it("routes a new grant at once, and stops at once when the merchant uninstalls", async () => {
    const account = world.emulator.emulator.accountIds[2]!;
    // Not connected yet: acknowledged and ignored (and that it is unknown is now cached).
    expect((await payoutUpdate(account)).json.outcome).toBe("ignored");
    await connectAccount(world, connected.apiKey, account);
    await deps().sync.idle();
    expect((await payoutUpdate(account)).json.outcome).toBe("applied");

    world.emulator.emulator.control.uninstallApp(account);
    const keys = world.emulator.emulator.platforms[0]!.keys.test;
    const uninstalled = eventFixture("account.application.deauthorized", {
      account,
      created: world.clock.seconds(),
      object: { id: keys.clientId, name: "Emulator Platform" },
    });
    const deauthorized = await postWebhook(world.gateway.app, connected.rawId, JSON.stringify(uninstalled), {
      timestamp: world.clock.seconds(),
    });
    expect(deauthorized.status).toBe(200);
    expect(await payoutUpdate(account)).toEqual({
      status: 200,
      json: { received: true, outcome: "ignored" },
    });
  });

  it("verifies with a changed signing secret from the moment it is saved", async () => {
    const rotated = `whsec_rotated${randomBytes(12).toString("hex")}`;
    expect((await payoutUpdate(connected.account)).status).toBe(200);
    const saved = await world.gateway.gql(
      ConfigureStripe,
      { input: { webhookSigningSecret: rotated } },
      connected.apiKey,
    );
    expect(saved.data?.setStripeConfig.__typename).toBe("SetStripeConfigSuccess");
    const old = await payoutUpdate(connected.account);
    expect(old.status).toBe(400);
    expect(old.json.error?.code).toBe("NO_MATCH");
    expect((await payoutUpdate(connected.account, { secret: rotated })).json.outcome).toBe("applied");
  });
});

describe.each(databaseTargets)("a revoked API key on a second instance, on $name", (target) => {
  const env = { ENCRYPTION_KEY: randomBytes(32).toString("base64") };
  const secondOf = (first: TestGateway, extra: Record<string, string>, cacheMaxAgeMs?: number) =>
    target.url
      ? startTestGateway(
          target,
          { ...env, ...extra, DATABASE_URL: first.deps.config.databaseUrl! },
          { cacheMaxAgeMs },
        )
      : startTestGateway(target, { ...env, ...extra }, { database: first.deps.db, cacheMaxAgeMs });
  const createOrg = async (gateway: TestGateway) => {
    const created = (await gateway.gql(CreateOrgDoc, { name: "Revoked" }, ADMIN_KEY)).data?.createOrg;
    if (!created || !("apiKey" in created)) throw new Error("createOrg failed");
    return { apiKey: created.apiKey, rawId: created.org.redirectUri.split("/")[5]! };
  };
  const viewerStatus = async (gateway: TestGateway, apiKey: string) =>
    (await gateway.gql(ViewerId, {}, apiKey)).status;
  /** Revokes on `a` as issue 13's revokeApiKey mutation will: the row, then the invalidation. */
  const revoke = (a: TestGateway, apiKey: string) =>
    revokeApiKey({ prisma: a.deps.db.prisma, pubsub: a.deps.pubsub }, parseApiKey(apiKey)!.id, new Date());

  describe("without Redis: within the cache's max age", () => {
    let a: TestGateway;
    let b: TestGateway;
    beforeAll(async () => {
      a = await startTestGateway(target, env);
      b = await secondOf(a, {});
    }, 60_000);
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it("is refused at once where it was revoked, and by the other instance once its entry is a second old", async () => {
      expect(CACHE_MAX_AGE_MS).toBeLessThanOrEqual(1000);
      const org = await createOrg(a);
      expect(await viewerStatus(a, org.apiKey)).toBe(200);
      expect(await viewerStatus(b, org.apiKey)).toBe(200);
      expect(await revoke(a, org.apiKey)).toBe(true);
      expect(await viewerStatus(a, org.apiKey)).toBe(401);
      // No message reaches b: only the max age (1 s) can. The timeout leaves room for a loaded machine;
      // the bound itself is pinned with a hand-moved clock in "the cache" below.
      await eventually(async () => (await viewerStatus(b, org.apiKey)) === 401, {
        what: "the second instance refuses the revoked key",
        timeoutMs: 5_000,
      });
    });
  });

  describe.skipIf(!redisUrl)("with Redis: through the pubsub", () => {
    let redis: Awaited<ReturnType<typeof startScratchRedis>>;
    let probe: Redis;
    let a: TestGateway;
    let b: TestGateway;
    beforeAll(async () => {
      // A private Redis, so that the subscriber count below is these two instances'.
      redis = await startScratchRedis();
      probe = new Redis(redis.url, { maxRetriesPerRequest: null });
      a = await startTestGateway(target, { ...env, REDIS_URL: redis.url });
      // b never lets an entry expire: what it stops accepting, the invalidation told it.
      b = await secondOf(a, { REDIS_URL: redis.url }, FOREVER_MS);
      await waitUntil(async () => {
        const [, count] = (await probe.call("PUBSUB", "NUMSUB", "cache:invalidate")) as [string, number];
        return Number(count) === 2;
      }, "both instances listen for invalidations on Redis");
    }, 60_000);
    afterAll(async () => {
      await b?.close();
      await a?.close();
      probe?.disconnect();
      await redis?.stop();
    });

    it("is refused by the other instance as soon as the invalidation arrives", async () => {
      const org = await createOrg(a);
      expect(await viewerStatus(b, org.apiKey)).toBe(200);
      expect(await revoke(a, org.apiKey)).toBe(true);
      expect(await viewerStatus(a, org.apiKey)).toBe(401);
      await eventually(async () => (await viewerStatus(b, org.apiKey)) === 401, {
        what: "the second instance refuses the revoked key",
        timeoutMs: 5_000,
      });
    });

    it("verifies with a signing secret changed on the other instance", async () => {
      const org = await createOrg(a);
      const configure = (webhookSigningSecret: string) =>
        a.gql(
          ConfigureStripe,
          { input: { clientId: "ca_RequestCost", secretKey: "sk_test_requestCost1", webhookSigningSecret } },
          org.apiKey,
        );
      const rotated = `whsec_rotated${randomBytes(12).toString("hex")}`;
      expect((await configure(WEBHOOK_SECRET)).data?.setStripeConfig.__typename).toBe(
        "SetStripeConfigSuccess",
      );
      // Signed for an account the org has not connected: verified, then acknowledged and ignored.
      const deliver = (secret: string) => {
        const now = Math.floor(Date.now() / 1000);
        const body = JSON.stringify(
          makeEvent("payout.updated", { id: "po_x" }, { account: "acct_none", created: now }),
        );
        return postWebhook(b.app, org.rawId, body, { timestamp: now, secret });
      };
      expect((await deliver(WEBHOOK_SECRET)).status).toBe(200);
      await configure(rotated);
      await eventually(async () => (await deliver(rotated)).status === 200, {
        what: "the second instance verifies with the new secret",
        timeoutMs: 5_000,
      });
      expect((await deliver(WEBHOOK_SECRET)).json.error?.code).toBe("NO_MATCH");
    });
  });
});

describe("the cache", () => {
  const logger = createLogger({ level: "silent" });
  /** A database that only knows one API key, counting its lookups; `gate` holds a lookup until released. */
  function fakeDatabase() {
    const org = { id: "org_fake", name: "Fake", createdAt: new Date(0), updatedAt: new Date(0) };
    const secret = randomBytes(32).toString("base64url");
    const known = { id: `key_${randomBytes(9).toString("base64url")}`, secret };
    const state = { lookups: 0, revoked: false, gate: null as Promise<void> | null };
    const prisma = {
      apiKey: {
        findUnique: async ({ where }: { where: { id: string } }) => {
          state.lookups += 1;
          const revokedAt = state.revoked ? new Date() : null;
          if (state.gate) await state.gate;
          if (where.id !== known.id) return null;
          return { secretHash: sha256(known.secret), revokedAt, org };
        },
      },
    };
    return { prisma, state, key: `cgw_${known.id}_${known.secret}`, keyId: known.id, org };
  }

  /** A cache over a fake database, with its own in-process pubsub. */
  function cacheOverFakeDatabase(options: Parameters<typeof createGatewayCache>[1]) {
    const db = fakeDatabase();
    const pubsub = createPubSub({ redisUrl: null, logger });
    const cache = createGatewayCache({ prisma: db.prisma as never, secrets: null as never, pubsub }, options);
    return { db, pubsub, cache };
  }

  it("reads an entry again once it is CACHE_MAX_AGE_MS old, and not before", async () => {
    let now = 0;
    const { db, cache } = cacheOverFakeDatabase({ now: () => now });
    expect((await cache.orgOfApiKey(db.key))?.id).toBe("org_fake");
    now = CACHE_MAX_AGE_MS - 1;
    db.state.revoked = true; // behind the cache's back: no invalidation
    expect((await cache.orgOfApiKey(db.key))?.id).toBe("org_fake");
    expect(db.state.lookups).toBe(1);
    now = CACHE_MAX_AGE_MS;
    expect(await cache.orgOfApiKey(db.key)).toBeNull();
    expect(db.state.lookups).toBe(2);
  });

  it("does not keep what a lookup read while an invalidation arrived", async () => {
    const { db, pubsub, cache } = cacheOverFakeDatabase({ maxAgeMs: FOREVER_MS });
    let release!: () => void;
    db.state.gate = new Promise((resolve) => {
      release = resolve;
    });
    const inFlight = cache.orgOfApiKey(db.key); // reads "not revoked", then waits
    await eventually(() => db.state.lookups === 1);
    db.state.revoked = true;
    await revokeApiKey(
      { prisma: { apiKey: { updateMany: async () => ({ count: 1 }) } } as never, pubsub },
      db.keyId,
      new Date(),
    );
    db.state.gate = null;
    release();
    expect((await inFlight)?.id).toBe("org_fake"); // it began before the revocation
    expect(await cache.orgOfApiKey(db.key)).toBeNull(); // whoever asks after it reads again
    expect(db.state.lookups).toBe(2);
  });

  it("keeps at most 10,000 unknown keys", async () => {
    const { db, cache } = cacheOverFakeDatabase({ maxAgeMs: FOREVER_MS });
    const unknown = (i: number) => `cgw_key_${String(i).padStart(12, "0")}_${"x".repeat(43)}`;
    for (let i = 0; i <= 10_000; i++) await cache.orgOfApiKey(unknown(i));
    expect(db.state.lookups).toBe(10_001);
    await cache.orgOfApiKey(unknown(10_000)); // still held
    expect(db.state.lookups).toBe(10_001);
    await cache.orgOfApiKey(unknown(0)); // the oldest, evicted
    expect(db.state.lookups).toBe(10_002);
  });
});

describe("log redaction", () => {
  it("keeps secrets out of the lines our log calls write", () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "debug",
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const secrets = Array.from({ length: 8 }, (_, i) => `secret_${i}_${randomBytes(8).toString("hex")}`);
    const [s0, s1, s2, s3, s4, s5, s6, s7] = secrets as [string, ...string[]];
    const child = log.child({ requestId: "r1" });
    child.info({ apiKey: s0, authorization: `Bearer ${s1}` }, "top level");
    // ioredis attaches the failed command's arguments to its errors: AUTH carries the password.
    const redisError = Object.assign(new Error("WRONGPASS"), { command: { name: "auth", args: [s2] } });
    child.warn({ err: redisError, role: "subscriber" }, "Redis unreachable");
    child.error({ err: Object.assign(new Error("oauth"), { accessToken: s3, refresh_token: s4 }) }, "error");
    child.warn({ error: { name: "E", secretKey: s5 } }, "described error");
    // Yoga's logger arguments
    child.error(
      { args: [Object.assign(new Error("yoga"), { webhookSigningSecret: s6, cookie: s7 })] },
      "yoga",
    );
    const written = lines.join("");
    expect(lines).toHaveLength(5);
    for (const secret of secrets) expect(written).not.toContain(secret);
    expect(written.match(/\[redacted\]/g)).toHaveLength(8);
  });
});
