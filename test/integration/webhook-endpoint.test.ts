// registerStripeWebhookEndpoint: the setup guide's webhook steps in one mutation, against the emulator —
// the endpoint Stripe creates, the secret the gateway stores, and events that then arrive and apply.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setStripeConfig } from "../../src/orgs/stripe-config.ts";
import { APPLIED_EVENT_TYPES } from "../../src/stripe/resources.ts";
import { graphql } from "../graphql/gql.js";
import { type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { ADMIN_KEY } from "../helpers/gateway.ts";

const Register = graphql(`
  mutation RegisterWebhookEndpoint {
    registerStripeWebhookEndpoint {
      __typename
      ... on RegisterStripeWebhookEndpointSuccess {
        endpointId url enabledEvents replacedEndpointIds warnings
        stripeConfig { webhookSigningSecretSet }
      }
      ... on StripeNotConfiguredError { message }
      ... on ValidationError { message fieldErrors { path message } }
    }
  }
`);

const PayoutStatus = graphql(`
  query RegisteredPayoutStatus($id: ID!) {
    stripeConnection(id: $id) { payouts(first: 5) { edges { node { stripeId status } } } }
  }
`);

const MintToken = graphql(`
  mutation MintTokenForRegister($ids: [ID!]!) {
    createAccessToken(input: { connectionIds: $ids }) { ... on CreateAccessTokenSuccess { token } }
  }
`);

describe.each(databaseTargets)("registerStripeWebhookEndpoint on $name", (target) => {
  let world: ConnectWorld;
  const control = () => world.emulator.emulator.control;
  /** The platform's endpoints as Stripe lists them (the org's secret key is the platform's test key). */
  const stripeEndpoints = async () =>
    (
      await world.emulator
        .stripe(world.emulator.emulator.platforms[0]!.keys.test.secretKey)
        .webhookEndpoints.list({ limit: 100 })
    ).data;

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 2, seed: "register-webhook", retryBaseMs: 1 });
    // The emulator delivers to the org's webhookUrl (https://gateway.test/…): here, the in-process gateway.
    control().setDeliveryOptions({
      retryBaseMs: 1,
      maxAttempts: 2,
      fetch: (url, init) => world.gateway.app.fetch(new Request(url, init)),
    });
  }, 120_000);
  afterAll(() => world?.close());

  it("asks for setStripeConfig first", async () => {
    const org = await world.createOrg("Unconfigured");
    const result = await world.gateway.gql(Register, {}, org.apiKey);
    expect(result.data?.registerStripeWebhookEndpoint).toMatchObject({
      __typename: "StripeNotConfiguredError",
      message: expect.stringContaining("setStripeConfig"),
    });
  });

  it("creates the Connect endpoint with the applied event types, stores its secret, and events then apply", async () => {
    const { org, connection, account } = await connectedOrg(world, { name: "Registered" });
    const result = await world.gateway.gql(Register, {}, org.apiKey);
    const registered = result.data?.registerStripeWebhookEndpoint;
    if (registered?.__typename !== "RegisterStripeWebhookEndpointSuccess")
      throw new Error(JSON.stringify(result));
    const webhookUrl = `https://gateway.test/stripe/webhooks/${org.rawId}`;
    expect(registered).toMatchObject({
      url: webhookUrl,
      replacedEndpointIds: [],
      warnings: [],
      stripeConfig: { webhookSigningSecretSet: true },
    });
    expect([...registered.enabledEvents].sort()).toEqual([...APPLIED_EVENT_TYPES].sort());
    const onStripe = (await stripeEndpoints()).filter((e) => e.url === webhookUrl);
    expect(onStripe).toHaveLength(1);
    expect(onStripe[0]).toMatchObject({ id: registered.endpointId, status: "enabled", livemode: false });
    const stored = control()
      .info()
      .webhook_endpoints.find((e) => e.id === registered.endpointId);
    expect(stored).toMatchObject({ connect: true, mode: "test" });

    // An emulator payout change reaches the gateway as a signed webhook and is applied.
    world.clock.advance(2_000);
    const payout = control().createPayout(account, "test", { amount: 7_700 });
    world.clock.advance(2_000);
    control().payPayout(payout.id);
    await control().flushWebhooks();
    await world.gateway.deps.background.idle();
    const deliveries = control().deliveries.filter((d) => d.endpointId === registered.endpointId);
    expect(deliveries.map((d) => [d.eventType, d.status])).toEqual(
      expect.arrayContaining([
        ["payout.created", 200],
        ["payout.paid", 200],
      ]),
    );
    const stored2 = await world.gateway.deps.db.prisma.stripeEvent.findMany({
      where: { connectionId: connection.rowId, source: "webhook" },
      select: { type: true },
    });
    expect(stored2.map((e) => e.type)).toEqual(expect.arrayContaining(["payout.created", "payout.paid"]));
    const page = await world.gateway.gql(PayoutStatus, { id: connection.id }, org.apiKey);
    const node = page.data?.stripeConnection?.payouts.edges.find((e) => e.node.stripeId === payout.id)?.node;
    expect(node?.status).toBe("paid");
  });

  it("registering again replaces the org's endpoint (one per URL), and the new secret verifies", async () => {
    const { org, connection, account } = await connectedOrg(world, {
      name: "Twice",
      accountId: world.emulator.emulator.accountIds[1],
    });
    const first = (await world.gateway.gql(Register, {}, org.apiKey)).data?.registerStripeWebhookEndpoint;
    const second = (await world.gateway.gql(Register, {}, org.apiKey)).data?.registerStripeWebhookEndpoint;
    if (first?.__typename !== "RegisterStripeWebhookEndpointSuccess") throw new Error(JSON.stringify(first));
    if (second?.__typename !== "RegisterStripeWebhookEndpointSuccess")
      throw new Error(JSON.stringify(second));
    expect(second.endpointId).not.toBe(first.endpointId);
    expect(second.replacedEndpointIds).toEqual([first.endpointId]);
    const atUrl = (await stripeEndpoints()).filter((e) => e.url === second.url);
    expect(atUrl.map((e) => e.id)).toEqual([second.endpointId]);

    world.clock.advance(2_000);
    const payout = control().createPayout(account, "test", { amount: 3_100 });
    await control().flushWebhooks();
    await world.gateway.deps.background.idle();
    const delivered = control().deliveries.filter((d) => d.endpointId === second.endpointId);
    expect(delivered.find((d) => d.eventType === "payout.created")?.status).toBe(200);
    const row = await world.gateway.deps.db.prisma.stripePayout.findFirst({
      where: { connectionId: connection.rowId, stripeId: payout.id },
    });
    expect(row?.status).toBe("pending");
  });

  it("answers Stripe's refusals as ValidationError and stores nothing", async () => {
    const org = await world.createOrg("Bad key");
    // Saved without the check (a script would), as if the key had been revoked since.
    await setStripeConfig(
      {
        prisma: world.gateway.deps.db.prisma,
        secrets: world.gateway.deps.secrets,
        marketplaceUrl: world.gateway.deps.config.stripe.marketplaceUrl,
      },
      org.rawId,
      { clientId: "ca_revoked", secretKey: "sk_test_revokedKey0000" },
    );
    const refused = (await world.gateway.gql(Register, {}, org.apiKey)).data?.registerStripeWebhookEndpoint;
    expect(refused).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [
        { path: ["stripeConfig", "secretKey"], message: expect.stringContaining("Invalid API Key") },
      ],
    });

    const configured = await world.createConfiguredOrg("Stripe down");
    control().injectFailure({ kind: "error", status: 503, count: 3, pathPrefix: "/v1/webhook_endpoints" });
    const down = (await world.gateway.gql(Register, {}, configured.apiKey)).data
      ?.registerStripeWebhookEndpoint;
    expect(down).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: [], message: expect.stringMatching(/Stripe did not answer.*try again/) }],
    });
    const rows = await world.gateway.deps.db.prisma.stripeConfig.findMany({
      where: { orgId: { in: [org.rawId, configured.rawId] } },
    });
    expect(rows.every((row) => row.webhookSecretCiphertext === null)).toBe(true);
    const urls = (await stripeEndpoints()).map((e) => e.url);
    expect(urls).not.toContain(`https://gateway.test/stripe/webhooks/${configured.rawId}`);
  });

  it("needs the org's API key: a browser token is FORBIDDEN, the admin key too, no key 401", async () => {
    const { org, connection } = await connectedOrg(world, { name: "Tokens" });
    const minted = await world.gateway.gql(MintToken, { ids: [connection.id] }, org.apiKey);
    const token = minted.data?.createAccessToken;
    if (!token || !("token" in token)) throw new Error(JSON.stringify(minted));
    const before = (await stripeEndpoints()).length;
    const byToken = await world.gateway.gql(Register, {}, token.token);
    expect(byToken.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const byAdmin = await world.gateway.gql(Register, {}, ADMIN_KEY);
    expect(byAdmin.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await world.gateway.gql(Register, {}, null);
    expect(anonymous.status).toBe(401);
    expect((await stripeEndpoints()).length).toBe(before);
  });
});
