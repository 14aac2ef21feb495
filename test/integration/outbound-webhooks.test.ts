// Signed deliveries of the change log to the org's own endpoints, received over real HTTP and verified with
// `standardwebhooks` as the org would: the body, selection, retries through an outage, leases across
// instances, a crash between sending and recording, rotation, 410, recovery, and one slow endpoint.
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../graphql/gql.js";
import { changePayout } from "../helpers/changes.ts";
import {
  type ConnectedOrg,
  type ConnectWorld,
  connectAccount,
  connectedOrg,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { CreateOrg } from "../helpers/documents.ts";
import { eventually } from "../helpers/eventually.ts";
import { ADMIN_KEY, startTestGateway } from "../helpers/gateway.ts";
import {
  CreateEndpoint,
  createEndpoint,
  DeleteEndpoint,
  deliveriesOf,
  RecoverDeliveries,
  RotateSecret,
  SendTestWebhook,
  UpdateEndpoint,
} from "../helpers/webhook-endpoints.ts";
import { startWebhookReceiver, verify, type WebhookReceiver } from "../helpers/webhook-receiver.ts";
import { WEBHOOK_SECRET } from "../helpers/webhooks.ts";

describe.each(databaseTargets)("outbound webhooks on $name", (target) => {
  let world: ConnectWorld;
  let org: ConnectedOrg;
  let receiver: WebhookReceiver;
  /** Makes the next recording of an attempt fail, as a crash after the send would. */
  let crashNextRecord = false;
  /** Endpoints to delete after each test, with the key of their org */
  const endpoints: { id: string; apiKey: string }[] = [];

  beforeAll(async () => {
    world = await startConnectWorld(target, {
      accounts: 2,
      size: "small",
      beforeStatement: (sql) => {
        if (crashNextRecord && sql.includes(`INSERT INTO "WebhookAttempt"`)) {
          crashNextRecord = false;
          throw new Error("the instance died before it recorded the attempt");
        }
      },
      webhooks: {
        retry: { delaysMs: [100, 200, 300], giveUpAfterMs: 120_000, jitter: 0 },
        leaseMs: 1500,
        pollMs: 50,
        timeoutMs: 5000,
      },
    });
    org = await connectedOrg(world, { webhookSigningSecret: WEBHOOK_SECRET });
    world.gateway.deps.webhooks.start();
  }, 120_000);
  afterEach(async () => {
    for (const { id, apiKey } of endpoints.splice(0)) await world.gateway.gql(DeleteEndpoint, { id }, apiKey);
    await receiver?.close();
  });
  afterAll(() => world?.close());

  /** A receiver and an endpoint of the org pointing at it (deleted after the test). */
  async function endpointAt(input: { types?: string[]; connectionIds?: string[] } = {}, apiKey = org.apiKey) {
    receiver = await startWebhookReceiver();
    const endpoint = await createEndpoint(world.gateway, apiKey, { url: receiver.url, ...input });
    receiver.secrets = [endpoint.secret];
    endpoints.push({ id: endpoint.id, apiKey });
    return endpoint;
  }

  const changeFirstPayout = (description: string) => changePayout(world, org, description);

  it("sends each change signed (Standard Webhooks) with its sequence, the connection and Stripe's object", async () => {
    const endpoint = await endpointAt();
    const { stripeId } = await changeFirstPayout("signed delivery");
    const [received] = await eventually(() => (receiver.unique().length === 1 ? receiver.unique() : null), {
      what: "the change arrived, verified",
    });
    const change = await world.gateway.deps.db.prisma.stripeChange.findFirstOrThrow({
      where: { orgId: org.rawId },
      orderBy: { sequence: "desc" },
    });
    const payout = await world.gateway.deps.db.prisma.stripePayout.findFirstOrThrow({
      where: { connectionId: org.connection.rowId, stripeId },
    });
    expect(received!.verified).toEqual({
      type: "payout.updated",
      timestamp: change.occurredAt.toISOString(),
      data: {
        sequence: String(change.sequence),
        connection: {
          id: org.connection.id,
          stripeAccountId: org.account,
          status: "READY",
          metadata: {},
        },
        object: payout.raw,
      },
    });
    expect(received!.id).toBe(`msg_${decodeGlobalID(endpoint.id).id}_${change.sequence}`);
    expect(received!.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const { deliveries } = await deliveriesOf(world.gateway, org.apiKey, endpoint.id);
    expect(deliveries).toMatchObject([
      { messageId: received!.id, type: "payout.updated", status: "SUCCEEDED", nextAttemptAt: null },
    ]);
    expect(deliveries[0]!.attempts).toMatchObject([{ statusCode: 204, error: null }]);
  });

  it("tells the org's backend when a merchant's first sync is done: connected, each object, ready", async () => {
    const other = await world.createConfiguredOrg("First sync");
    await endpointAt({ types: ["connection.*", "payout.created"] }, other.apiKey);
    const connection = await connectAccount(world, other.apiKey, world.emulator.emulator.accountIds[1]!);
    await world.gateway.deps.sync.idle();
    const ready = await eventually(
      () => receiver.unique().find((item) => item.verified?.type === "connection.ready"),
      { what: "connection.ready arrived" },
    );
    expect(ready.verified!.data.connection).toMatchObject({ id: connection.id, status: "READY" });
    const types = receiver.unique().map((item) => item.verified!.type);
    expect(types[0]).toBe("connection.connected");
    expect(new Set(types)).toEqual(new Set(["connection.connected", "payout.created", "connection.ready"]));
    const payouts = await world.gateway.deps.db.prisma.stripePayout.count({
      where: { connectionId: connection.rowId },
    });
    expect(types.filter((type) => type === "payout.created")).toHaveLength(payouts);
    // Ordered by sequence, they are the log's own order.
    const sequences = receiver.unique().map((item) => BigInt(item.verified!.data.sequence));
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(
      sequences.slice().sort((a, b) => (a < b ? -1 : 1)),
    );
    expect(receiver.received.every((item) => item.verified)).toBe(true);
  });

  it("selects by type and by connection: nothing else reaches the endpoint", async () => {
    await endpointAt({ types: ["charge.*"] });
    await changeFirstPayout("not a charge");
    const test = await world.gateway.gql(SendTestWebhook, { id: endpoints[0]!.id }, org.apiKey);
    expect(test.data?.sendTestWebhook.__typename).toBe("SendTestWebhookSuccess");
    // The test ping is sent whatever the selection; the payout change never is.
    await eventually(() => receiver.unique().length === 1, { what: "the test ping arrived" });
    await world.gateway.deps.webhooks.idle();
    expect(receiver.unique().map((item) => item.verified!.type)).toEqual(["test.ping"]);
  });

  it("an endpoint down (refused, then 500s, then 429 with Retry-After) receives every delivery once it recovers", async () => {
    const endpoint = await endpointAt();
    await receiver.down();
    for (const description of ["outage 1", "outage 2", "outage 3"]) await changeFirstPayout(description);
    await eventually(
      async () =>
        (await deliveriesOf(world.gateway, org.apiKey, endpoint.id)).deliveries.every(
          (delivery) => delivery.attempts.length >= 2,
        ),
      { what: "every delivery was refused twice" },
    );
    let served = 0;
    receiver.answer = () => {
      served += 1;
      if (served <= 3) return { status: 500 };
      if (served === 4) return { status: 429, headers: { "retry-after": "1" } };
      return { status: 200 };
    };
    await receiver.up();
    const unique = await eventually(() => (receiver.unique().length === 3 ? receiver.unique() : null), {
      what: "all three arrived once the endpoint recovered",
      timeoutMs: 20_000,
    });
    expect(unique.map((item) => item.verified!.data.object!.description).sort()).toEqual([
      "outage 1",
      "outage 2",
      "outage 3",
    ]);
    // The answers arrive before the gateway records them.
    const { deliveries } = await eventually(async () => {
      const found = await deliveriesOf(world.gateway, org.apiKey, endpoint.id);
      return found.deliveries.every((delivery) => delivery.status === "SUCCEEDED") ? found : null;
    });
    expect(deliveries).toHaveLength(3);
    const attempts = deliveries.flatMap((delivery) => delivery.attempts);
    expect(attempts.filter((attempt) => attempt.statusCode === null)[0]!.error).toMatch(/ECONNREFUSED/);
    expect(attempts.filter((attempt) => attempt.statusCode === 500)).toHaveLength(3);
    const throttled = deliveries.find((delivery) =>
      delivery.attempts.some((attempt) => attempt.statusCode === 429),
    )!;
    const at429 = throttled.attempts.findIndex((attempt) => attempt.statusCode === 429);
    // Retry-After: 1 was honoured (the schedule's own step here is 300 ms at most).
    expect(
      Date.parse(throttled.attempts[at429 + 1]!.at) - Date.parse(throttled.attempts[at429]!.at),
    ).toBeGreaterThanOrEqual(1000);
    // Every attempt of one delivery carried the same webhook-id.
    for (const delivery of deliveries)
      expect(
        new Set(receiver.received.filter((item) => item.id === delivery.messageId).map((item) => item.id))
          .size,
      ).toBe(1);
  });

  it("recoverWebhookDeliveries sends again what a time range holds, under the same webhook-ids", async () => {
    const endpoint = await endpointAt({ types: ["payout.updated"] });
    await changeFirstPayout("recover 1");
    const since = world.gateway.deps.clock.now();
    await changeFirstPayout("recover 2");
    await changeFirstPayout("recover 3");
    await eventually(() => receiver.unique().length === 3, { what: "the three changes arrived" });
    const first = receiver.unique();
    const recovered = await world.gateway.gql(
      RecoverDeliveries,
      { id: endpoint.id, since: since.toISOString() },
      org.apiKey,
    );
    expect(recovered.data?.recoverWebhookDeliveries).toEqual({
      __typename: "RecoverWebhookDeliveriesSuccess",
      scheduled: 2,
    });
    await eventually(() => receiver.received.length === 5, { what: "the two were sent again" });
    expect(
      receiver.received
        .slice(3)
        .map((item) => item.id)
        .sort(),
    ).toEqual(
      first
        .slice(1)
        .map((item) => item.id)
        .sort(),
    );
    expect(receiver.received.every((item) => item.verified)).toBe(true);
  });

  it("a crash between sending and recording sends again, under the same webhook-id", async () => {
    const endpoint = await endpointAt();
    await world.gateway.deps.webhooks.idle(); // nothing of earlier tests is in flight to take the crash
    crashNextRecord = true;
    await changeFirstPayout("crash after send");
    // The lease of the instance that "died" expires; the delivery is claimed again and resent.
    await eventually(() => receiver.received.length === 2, { what: "the delivery was sent twice" });
    expect(receiver.received[0]!.id).toBe(receiver.received[1]!.id);
    expect(receiver.received.every((item) => item.verified)).toBe(true);
    const { deliveries } = await eventually(async () => {
      const found = await deliveriesOf(world.gateway, org.apiKey, endpoint.id);
      return found.deliveries[0]?.status === "SUCCEEDED" ? found : null;
    });
    expect(deliveries).toHaveLength(1);
  });

  it("signs with the old and the new secret during a rotation's grace period, with the new one only after", async () => {
    const endpoint = await endpointAt();
    const old = receiver.secrets[0]!;
    const rotated = await world.gateway.gql(RotateSecret, { id: endpoint.id, graceSeconds: 2 }, org.apiKey);
    if (rotated.data?.rotateWebhookEndpointSecret.__typename !== "RotateWebhookEndpointSecretSuccess")
      throw new Error(JSON.stringify(rotated));
    const fresh = rotated.data.rotateWebhookEndpointSecret.secret;
    expect(fresh).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated.data.rotateWebhookEndpointSecret.endpoint.secretHint).toBe(`whsec_…${fresh.slice(-4)}`);
    receiver.secrets = [fresh];
    await changeFirstPayout("during grace");
    const [during] = await eventually(() => (receiver.received.length === 1 ? receiver.received : null));
    expect(during!.signature.split(" ")).toHaveLength(2);
    const headers = (item: typeof during) => ({
      "webhook-id": item!.id,
      "webhook-timestamp": item!.timestamp,
      "webhook-signature": item!.signature,
    });
    expect(verify([old], during!.body, headers(during))).not.toBeNull();
    expect(verify([fresh], during!.body, headers(during))).not.toBeNull();
    world.clock.advance(2_500);
    await changeFirstPayout("after grace");
    const after = await eventually(() => receiver.received[1]);
    expect(after.signature.split(" ")).toHaveLength(1);
    expect(verify([fresh], after.body, headers(after))).not.toBeNull();
    expect(verify([old], after.body, headers(after))).toBeNull();
  });

  it("a 410 disables the endpoint at once; re-enabling it resumes where it stopped", async () => {
    const endpoint = await endpointAt();
    receiver.answer = () => ({ status: 410 });
    await changeFirstPayout("gone 1");
    const disabled = await eventually(async () => {
      const found = await deliveriesOf(world.gateway, org.apiKey, endpoint.id);
      return found.enabled ? null : found;
    });
    expect(disabled.disabledReason).toMatch(/410 Gone/);
    await changeFirstPayout("gone 2");
    await world.gateway.deps.webhooks.idle();
    expect(receiver.received).toHaveLength(1);
    receiver.answer = () => ({ status: 204 });
    const enabled = await world.gateway.gql(
      UpdateEndpoint,
      { id: endpoint.id, input: { enabled: true } },
      org.apiKey,
    );
    expect(enabled.data?.updateWebhookEndpoint).toMatchObject({
      endpoint: { enabled: true, disabledReason: null },
    });
    const unique = await eventually(() => (receiver.unique().length === 2 ? receiver.unique() : null));
    expect(unique.map((item) => item.verified!.data.object!.description).sort()).toEqual([
      "gone 1",
      "gone 2",
    ]);
  });

  it("a slow endpoint (answers after 10 s) does not delay a fast one", async () => {
    const slow = await startWebhookReceiver();
    slow.answer = () => ({ status: 200, delayMs: 10_000 });
    try {
      const slowEndpoint = await createEndpoint(world.gateway, org.apiKey, { url: slow.url });
      endpoints.push({ id: slowEndpoint.id, apiKey: org.apiKey });
      await endpointAt();
      const started = performance.now();
      for (let index = 0; index < 12; index += 1) await changeFirstPayout(`busy ${index}`);
      await eventually(() => receiver.unique().length === 12, { what: "the fast endpoint had all 12" });
      expect(performance.now() - started).toBeLessThan(8_000);
      // The slow one holds its own slots only.
      expect(slow.concurrent.max).toBeLessThanOrEqual(8);
    } finally {
      await world.gateway.gql(DeleteEndpoint, { id: endpoints.shift()!.id }, org.apiKey);
      await slow.close();
    }
  });

  it("refuses bad input with a ValidationError naming the field, and changes nothing", async () => {
    const other = await world.createConfiguredOrg("Other");
    const otherConnection = await world.gateway.deps.db.prisma.stripeConnection.create({
      data: { id: "conn_otherorgwebhook", orgId: other.rawId, method: "STRIPE_APP" },
    });
    const attempts: [{ url: string; types?: string[]; connectionIds?: string[] }, string][] = [
      [{ url: "not a url" }, "input.url"],
      [{ url: "ftp://example.com/x" }, "input.url"],
      [{ url: "http://example.com/hooks" }, "input.url"],
      [{ url: "https://user:pass@example.com/hooks" }, "input.url"],
      [{ url: "https://example.com/hooks", types: ["payout.updated", "payout.nonsense"] }, "input.types"],
      [{ url: "https://example.com/hooks", connectionIds: [otherConnection.id] }, "input.connectionIds"],
    ];
    for (const [input, path] of attempts) {
      const result = await world.gateway.gql(
        CreateEndpoint,
        {
          input: {
            ...input,
            types: input.types ? [...input.types] : undefined,
            connectionIds: input.connectionIds ? [...input.connectionIds] : undefined,
          },
        },
        org.apiKey,
      );
      const outcome = result.data?.createWebhookEndpoint;
      expect(outcome?.__typename, JSON.stringify(input)).toBe("ValidationError");
      expect(
        outcome && "fieldErrors" in outcome && outcome.fieldErrors.map((error) => error.path.join(".")),
      ).toEqual([path]);
    }
    const unknown = await world.gateway.gql(
      CreateEndpoint,
      { input: { url: "https://example.com/hooks", types: ["payout.nonsense"] } },
      org.apiKey,
    );
    expect(unknown.data?.createWebhookEndpoint).toMatchObject({
      fieldErrors: [
        { message: expect.stringMatching(/^"payout.nonsense" is not one: each must be a change type/) },
      ],
    });
    expect(await world.gateway.deps.db.prisma.webhookEndpoint.count({ where: { orgId: org.rawId } })).toBe(0);
    const grace = await world.gateway.gql(
      RotateSecret,
      { id: (await endpointAt()).id, graceSeconds: -1 },
      org.apiKey,
    );
    expect(grace.data?.rotateWebhookEndpointSecret.__typename).toBe("ValidationError");
    // Another org's endpoint is not found; a browser token may not manage endpoints at all.
    const foreign = await world.gateway.gql(DeleteEndpoint, { id: endpoints[0]!.id }, other.apiKey);
    expect(foreign.data?.deleteWebhookEndpoint.__typename).toBe("NotFoundError");
    const token = await world.gateway.gql(
      CreateToken,
      { input: { connectionIds: [org.connection.id] } },
      org.apiKey,
    );
    const tokenText =
      token.data?.createAccessToken.__typename === "CreateAccessTokenSuccess"
        ? token.data.createAccessToken.token
        : "";
    const asToken = await world.gateway.gql(
      CreateEndpoint,
      { input: { url: "https://example.com/hooks" } },
      tokenText,
    );
    expect(asToken.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("two instances never send the same attempt at once: each delivery arrives once", async () => {
    const second = await world.startSecondInstance();
    try {
      second.deps.webhooks.start();
      const endpoint = await endpointAt();
      receiver.answer = () => ({ status: 200, delayMs: 20 });
      for (let index = 0; index < 30; index += 1) await changeFirstPayout(`shared ${index}`);
      await eventually(() => receiver.unique().length === 30, { what: "all 30 arrived" });
      await second.deps.webhooks.idle();
      await world.gateway.deps.webhooks.idle();
      expect(receiver.received).toHaveLength(30);
      const { deliveries } = await deliveriesOf(world.gateway, org.apiKey, endpoint.id);
      expect(deliveries).toHaveLength(30);
      expect(deliveries.every((delivery) => delivery.attempts.length === 1)).toBe(true);
    } finally {
      await second.close();
    }
  });

  it("loses nothing across a restart in the middle of retrying", async () => {
    const endpoint = await endpointAt();
    receiver.answer = () => ({ status: 503 });
    await changeFirstPayout("restart 1");
    await changeFirstPayout("restart 2");
    await eventually(
      async () =>
        (await deliveriesOf(world.gateway, org.apiKey, endpoint.id)).deliveries.every(
          (delivery) => delivery.status === "FAILING",
        ),
      { what: "both deliveries are failing" },
    );
    await world.gateway.deps.webhooks.close();
    receiver.answer = () => ({ status: 204 });
    const restarted = await world.startSecondInstance();
    try {
      restarted.deps.webhooks.start();
      const unique = await eventually(() => (receiver.unique().length === 2 ? receiver.unique() : null), {
        what: "the restarted gateway delivered both",
      });
      expect(unique.map((item) => item.verified!.data.object!.description).sort()).toEqual([
        "restart 1",
        "restart 2",
      ]);
    } finally {
      await restarted.close();
    }
  });

  // Last: it moves the clock on by days, and the dispatcher of the world's gateway was closed by the restart.
  it("disables an endpoint that has failed for WEBHOOK_DISABLE_AFTER_DAYS (5), saying since when", async () => {
    const instance = await world.startSecondInstance();
    try {
      instance.deps.webhooks.start();
      const endpoint = await endpointAt();
      receiver.answer = () => ({ status: 500 });
      await changeFirstPayout("failing 1");
      await eventually(
        async () =>
          (await deliveriesOf(world.gateway, org.apiKey, endpoint.id)).deliveries[0]?.attempts.length,
        { what: "the first attempt failed" },
      );
      const failingSince = await world.gateway.deps.db.prisma.webhookEndpoint.findFirstOrThrow({
        where: { orgId: org.rawId },
      });
      expect(failingSince.failingSince).not.toBeNull();
      world.clock.advance(5 * 24 * 60 * 60 * 1000);
      await changeFirstPayout("failing 2");
      const disabled = await eventually(async () => {
        const found = await deliveriesOf(world.gateway, org.apiKey, endpoint.id);
        return found.enabled === false ? found : null;
      });
      expect(disabled.disabledReason).toBe(
        `failing since ${failingSince.failingSince!.toISOString().replace(/\.\d{3}Z$/, "Z")} (WEBHOOK_DISABLE_AFTER_DAYS)`,
      );
    } finally {
      await instance.close();
    }
  });
});

const CreateToken = graphql(`
  mutation WebhookEndpointsToken($input: CreateAccessTokenInput!) {
    createAccessToken(input: $input) { __typename ... on CreateAccessTokenSuccess { token } }
  }
`);

describe("outbound webhooks in production", () => {
  const target = databaseTargets[0]!;

  /** What creating each endpoint answers on a production gateway with `env`, and how many were saved. */
  async function endpointResults(env: Record<string, string>, urls: readonly string[]) {
    const gateway = await startTestGateway(target, { NODE_ENV: "production", ...env });
    try {
      const created = await gateway.gql(CreateOrg, { name: "Production" }, ADMIN_KEY);
      const apiKey =
        created.data?.createOrg.__typename === "CreateOrgSuccess" ? created.data.createOrg.apiKey : "";
      const outcomes = [];
      for (const url of urls)
        outcomes.push(
          (await gateway.gql(CreateEndpoint, { input: { url } }, apiKey)).data?.createWebhookEndpoint,
        );
      return { outcomes, count: await gateway.deps.db.prisma.webhookEndpoint.count() };
    } finally {
      await gateway.close();
    }
  }

  it("refuses an endpoint at a private address, loopback or http://, and saves nothing", async () => {
    const refusals = [
      ["https://127.0.0.1:8443/hooks", /127.0.0.1 is loopback/],
      ["https://10.0.0.7/hooks", /10.0.0.7 is private/],
      ["https://169.254.169.254/latest/meta-data", /169.254.169.254 is linkLocal/],
      ["https://localhost/hooks", /localhost (is this machine|resolves to)/],
      ["http://93.184.215.14/hooks", /must be https:\/\/ in production/],
    ] as const;
    const { outcomes, count } = await endpointResults(
      {},
      refusals.map(([url]) => url),
    );
    for (const [index, [url, message]] of refusals.entries())
      expect(outcomes[index], url).toMatchObject({
        __typename: "ValidationError",
        fieldErrors: [{ path: ["input", "url"], message: expect.stringMatching(message) }],
      });
    expect(count).toBe(0);
  });

  it("takes a private address when WEBHOOK_ALLOW_PRIVATE_URLS=true", async () => {
    const { outcomes, count } = await endpointResults({ WEBHOOK_ALLOW_PRIVATE_URLS: "true" }, [
      "http://127.0.0.1:8080/hooks",
    ]);
    expect(outcomes[0]?.__typename).toBe("CreateWebhookEndpointSuccess");
    expect(count).toBe(1);
  });
});

describe("outbound webhooks at the instance's limit of attempts in flight", () => {
  const target = databaseTargets[0]!;
  let world: ConnectWorld;
  let org: ConnectedOrg;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    world = await startConnectWorld(target, {
      accounts: 1,
      size: "small",
      // One attempt at a time for the whole instance, and leases far longer than the test.
      webhooks: { maxInFlight: 1, leaseMs: 60_000, pollMs: 50 },
    });
    org = await connectedOrg(world, { webhookSigningSecret: WEBHOOK_SECRET });
    world.gateway.deps.webhooks.start();
  }, 120_000);
  afterAll(async () => {
    for (const receiver of receivers) await receiver.close();
    await world?.close();
  });

  it("sends every endpoint's claimed deliveries as slots free up, each once", async () => {
    for (let index = 0; index < 2; index += 1) {
      const receiver = await startWebhookReceiver();
      receiver.secrets = [(await createEndpoint(world.gateway, org.apiKey, { url: receiver.url })).secret];
      receivers.push(receiver);
    }
    for (let index = 0; index < 5; index += 1) await changePayout(world, org, `limited ${index}`);
    await eventually(() => receivers.every((receiver) => receiver.unique().length === 5), {
      what: "both endpoints had all five",
      timeoutMs: 10_000,
    });
    await world.gateway.deps.webhooks.idle();
    expect(receivers.map((receiver) => receiver.received.length)).toEqual([5, 5]);
  });
});
