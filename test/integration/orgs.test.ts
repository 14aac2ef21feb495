import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseTargets, embeddedTarget } from "../helpers/databases.ts";
import { CreateOrg, NodeOrg, SetStripeConfig, Viewer } from "../helpers/documents.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const SECRET_KEY = "sk_live_51SecretKeyValue9876543210abcdef4242";
const WEBHOOK_SECRET = "whsec_SigningSecretValue0123456789";

describe.each(databaseTargets)("orgs and Stripe config on $name", (target) => {
  let gateway: TestGateway;
  let acme: { id: string; apiKey: string; redirectUri: string };
  let globex: { id: string; apiKey: string };

  async function createOrg(name: string) {
    const result = await gateway.gql(CreateOrg, { name }, ADMIN_KEY);
    const created = result.data?.createOrg;
    if (created?.__typename !== "CreateOrgSuccess") throw new Error(JSON.stringify(result));
    return {
      id: created.org.id,
      apiKey: created.apiKey,
      redirectUri: created.org.redirectUri,
      org: created.org,
    };
  }

  beforeAll(async () => {
    gateway = await startTestGateway(target);
    acme = await createOrg("Acme");
    globex = await createOrg("Globex");
  });
  afterAll(() => gateway?.close());

  it("createOrg returns the org, its URLs built from PUBLIC_URL, and an API key", async () => {
    const { org, apiKey } = await createOrg("Initech");
    expect(apiKey).toMatch(/^cgw_key_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$/);
    const rawId = org.redirectUri.split("/")[5]!;
    expect(rawId).toMatch(/^org_[0-9a-f]{24}$/);
    expect(org.redirectUri).toBe(`https://gateway.test/stripe/proxy/${rawId}/redirect`);
    expect(org.webhookUrl).toBe(`https://gateway.test/stripe/webhooks/${rawId}`);
    expect(org.stripeConfig).toBeNull();
    const viewer = await gateway.gql(Viewer, {}, apiKey);
    expect(viewer.data?.viewer).toMatchObject({ id: org.id, name: "Initech" });
  });

  it("stores only a hash of the API key", async () => {
    const rows = await gateway.deps.db.prisma.apiKey.findMany();
    for (const key of [acme.apiKey, globex.apiKey]) {
      const secret = key.slice(-43);
      expect(JSON.stringify(rows)).not.toContain(secret);
    }
  });

  it("rejects an empty org name with a ValidationError and creates nothing", async () => {
    const before = await gateway.deps.db.prisma.org.count();
    const result = await gateway.gql(CreateOrg, { name: "   " }, ADMIN_KEY);
    expect(result.data?.createOrg).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["input", "name"], message: "must not be empty" }],
    });
    expect(await gateway.deps.db.prisma.org.count()).toBe(before);
  });

  it("answers UNAUTHENTICATED (401) without a key and for an unknown key", async () => {
    const missing = await gateway.gql(Viewer, {}, null);
    expect(missing.status).toBe(401);
    expect(missing.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    for (const key of [
      `cgw_key_AAAAAAAAAAAA_${"A".repeat(43)}`,
      "nonsense",
      `${acme.apiKey.slice(0, -1)}x`,
    ]) {
      const unknown = await gateway.gql(Viewer, {}, key);
      expect(unknown.status).toBe(401);
      expect(unknown.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(unknown.data).toBeUndefined();
    }
  });

  it("answers FORBIDDEN when an org key calls createOrg", async () => {
    const result = await gateway.gql(CreateOrg, { name: "Sneaky" }, acme.apiKey);
    expect(result.status).toBe(403);
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await gateway.deps.db.prisma.org.count({ where: { name: "Sneaky" } })).toBe(0);
  });

  it("refuses createOrg entirely when ADMIN_API_KEY is unset", async () => {
    const noAdmin = await startTestGateway(embeddedTarget, { ADMIN_API_KEY: "" });
    try {
      const result = await noAdmin.gql(CreateOrg, { name: "X" }, ADMIN_KEY);
      expect(result.status).toBe(401);
    } finally {
      await noAdmin.close();
    }
  });

  it("first setStripeConfig needs clientId and secretKey; reports every problem at once and saves nothing", async () => {
    const result = await gateway.gql(
      SetStripeConfig,
      {
        input: {
          secretKey: "pk_live_nope",
          customAuthorizationUrl: "http://evil.example.com/oauth/v2/chnlink_1/authorize?client_id=ca_1",
          webhookSigningSecret: "secret",
          defaultReturnUrl: "/relative",
        },
      },
      acme.apiKey,
    );
    const payload = result.data?.setStripeConfig;
    expect(payload?.__typename).toBe("ValidationError");
    if (payload?.__typename !== "ValidationError") return;
    const byField = Object.fromEntries(payload.fieldErrors.map((e) => [e.path.join("."), e.message]));
    expect(Object.keys(byField).sort()).toEqual(
      [
        "input.clientId",
        "input.customAuthorizationUrl",
        "input.defaultReturnUrl",
        "input.secretKey",
        "input.webhookSigningSecret",
      ].sort(),
    );
    expect(byField["input.clientId"]).toBe("is required the first time");
    expect(byField["input.customAuthorizationUrl"]).toContain("query parameters");
    expect(await gateway.deps.db.prisma.stripeConfig.count()).toBe(0);
  });

  it.each([
    [
      "https://marketplace.stripe.com/oauth/v2/chnlink_abc/authorize?client_id=ca_1&redirect_uri=x",
      "query parameters",
    ],
    [
      "http://marketplace.stripe.com/oauth/v2/chnlink_abc/authorize",
      "must be on https://marketplace.stripe.com",
    ],
    ["https://marketplace.stripe.com.evil.com/oauth/v2/chnlink_abc/authorize", "must be on"],
    ["https://marketplace.stripe.com/oauth/v2/authorize", "must look like"],
    ["https://marketplace.stripe.com/oauth/v2/chnlink_abc/authorize/", "must look like"],
    ["not a url", "absolute URL"],
  ])("rejects customAuthorizationUrl %s", async (url, message) => {
    const result = await gateway.gql(
      SetStripeConfig,
      { input: { clientId: "ca_1", secretKey: "sk_test_1", customAuthorizationUrl: url } },
      globex.apiKey,
    );
    const payload = result.data?.setStripeConfig;
    expect(payload?.__typename).toBe("ValidationError");
    if (payload?.__typename === "ValidationError") {
      expect(payload.fieldErrors).toHaveLength(1);
      expect(payload.fieldErrors[0]?.message).toContain(message);
    }
  });

  it("saves a valid config, shows hints only, and later calls change only the fields given", async () => {
    const first = await gateway.gql(
      SetStripeConfig,
      {
        input: {
          clientId: "ca_LiveClient123",
          secretKey: SECRET_KEY,
          customAuthorizationUrl: "https://marketplace.stripe.com/oauth/v2/chnlink_61abc/authorize",
          defaultReturnUrl: "https://app.acme.test/stripe/done",
        },
      },
      acme.apiKey,
    );
    expect(first.data?.setStripeConfig).toMatchObject({
      __typename: "SetStripeConfigSuccess",
      stripeConfig: {
        connectMethod: "STRIPE_APP",
        clientId: "ca_LiveClient123",
        secretKeyHint: "sk_live_…4242",
        livemode: true,
        webhookSigningSecretSet: false,
        defaultReturnUrl: "https://app.acme.test/stripe/done",
      },
    });

    const second = await gateway.gql(
      SetStripeConfig,
      { input: { webhookSigningSecret: WEBHOOK_SECRET, customAuthorizationUrl: null } },
      acme.apiKey,
    );
    expect(second.data?.setStripeConfig).toMatchObject({
      stripeConfig: {
        clientId: "ca_LiveClient123",
        secretKeyHint: "sk_live_…4242",
        webhookSigningSecretSet: true,
        customAuthorizationUrl: null,
        defaultReturnUrl: "https://app.acme.test/stripe/done",
      },
    });

    const cleared = await gateway.gql(SetStripeConfig, { input: { clientId: null } }, acme.apiKey);
    expect(cleared.data?.setStripeConfig).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["input", "clientId"], message: "cannot be cleared" }],
    });

    const legacy = await gateway.gql(
      SetStripeConfig,
      { input: { connectMethod: "LEGACY_CONNECT", secretKey: "rk_test_restricted99" } },
      acme.apiKey,
    );
    expect(legacy.data?.setStripeConfig).toMatchObject({
      stripeConfig: { connectMethod: "LEGACY_CONNECT", livemode: false, secretKeyHint: "rk_test_…ed99" },
    });
  });

  it("stores secrets encrypted and never returns or logs them", async () => {
    await gateway.gql(
      SetStripeConfig,
      { input: { clientId: "ca_Glob", secretKey: SECRET_KEY, webhookSigningSecret: WEBHOOK_SECRET } },
      globex.apiKey,
    );
    const rows = JSON.stringify(await gateway.deps.db.prisma.stripeConfig.findMany());
    expect(rows).not.toContain(SECRET_KEY);
    expect(rows).not.toContain(WEBHOOK_SECRET);
    const viewer = await gateway.gql(Viewer, {}, globex.apiKey);
    expect(JSON.stringify(viewer)).not.toContain(SECRET_KEY);
    const logs = gateway.logs();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [SECRET_KEY, WEBHOOK_SECRET, acme.apiKey, globex.apiKey, ADMIN_KEY]) {
      expect(logs).not.toContain(secret);
    }
  });

  it("keeps orgs apart through viewer and node(id)", async () => {
    const acmeViewer = await gateway.gql(Viewer, {}, acme.apiKey);
    expect(acmeViewer.data?.viewer.name).toBe("Acme");
    const own = await gateway.gql(NodeOrg, { id: acme.id }, acme.apiKey);
    expect(own.data?.node).toMatchObject({ id: acme.id, name: "Acme" });
    const other = await gateway.gql(NodeOrg, { id: globex.id }, acme.apiKey);
    expect(other.errors).toBeUndefined();
    expect(other.data?.node).toBeNull();
    const anonymous = await gateway.gql(NodeOrg, { id: globex.id }, null);
    expect(anonymous.status).toBe(401);
  });

  it("answers 400 with GraphQL's error shape for malformed JSON and GraphQL, never a stack trace", async () => {
    for (const body of [
      "{not json",
      JSON.stringify({ query: "{ viewer { " }),
      JSON.stringify({ query: "{ nope }" }),
    ]) {
      const response = await gateway.app.fetch(
        new Request("http://gateway.test/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${acme.apiKey}` },
          body,
        }),
      );
      expect(response.status).toBe(400);
      const json = (await response.json()) as { errors: { message: string }[] };
      expect(json.errors[0]?.message).toBeTruthy();
      expect(JSON.stringify(json)).not.toMatch(/\bat .+\.(ts|js):\d+/);
    }
  });
});
