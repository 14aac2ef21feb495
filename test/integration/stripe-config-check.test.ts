// setStripeConfig asks Stripe about a new secret key (GET /v1/account with it) and says what a pasted value
// is when it is not a secret key: a placeholder from the README, a publishable key, a client id.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../graphql/gql.js";
import { type ConnectWorld, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";

const SetConfig = graphql(`
  mutation CheckedSetStripeConfig($input: SetStripeConfigInput!) {
    setStripeConfig(input: $input) {
      __typename
      ... on SetStripeConfigSuccess { warnings stripeConfig { secretKeyHint livemode } }
      ... on ValidationError { message fieldErrors { path message } }
    }
  }
`);

describe.each(databaseTargets)("setStripeConfig checks the secret key with Stripe on $name", (target) => {
  let world: ConnectWorld;
  const keys = () => world.emulator.emulator.platforms[0]!.keys;
  const configOf = (orgId: string) =>
    world.gateway.deps.db.prisma.stripeConfig.findUnique({ where: { orgId } });

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 1, seed: "key-check", retryBaseMs: 1 });
  }, 120_000);
  afterAll(() => world?.close());

  it("saves a key Stripe takes, with no warning", async () => {
    const org = await world.createOrg("Good key");
    const result = await world.gateway.gql(
      SetConfig,
      { input: { clientId: keys().live.clientId, secretKey: keys().live.secretKey } },
      org.apiKey,
    );
    expect(result.data?.setStripeConfig).toMatchObject({
      __typename: "SetStripeConfigSuccess",
      warnings: [],
      stripeConfig: { livemode: true },
    });
  });

  it("refuses a key Stripe refuses, on secretKey, and saves nothing (a first call or a later one)", async () => {
    const org = await world.createOrg("Wrong key");
    const wrong = await world.gateway.gql(
      SetConfig,
      { input: { clientId: keys().test.clientId, secretKey: "sk_test_typo0000000000001234" } },
      org.apiKey,
    );
    expect(wrong.data?.setStripeConfig).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [
        {
          path: ["input", "secretKey"],
          message: expect.stringMatching(
            /^Stripe refused this key \(Invalid API Key provided: sk_test_\*+1234\)/,
          ),
        },
      ],
    });
    expect(await configOf(org.rawId)).toBeNull();

    await world.gateway.gql(
      SetConfig,
      { input: { clientId: keys().test.clientId, secretKey: keys().test.secretKey } },
      org.apiKey,
    );
    const before = await configOf(org.rawId);
    const later = await world.gateway.gql(
      SetConfig,
      { input: { secretKey: "sk_live_revoked000000000099", defaultReturnUrl: "https://app.example.com/x" } },
      org.apiKey,
    );
    expect(later.data?.setStripeConfig.__typename).toBe("ValidationError");
    expect(await configOf(org.rawId)).toEqual(before);
  });

  it("saves the key with a warning when Stripe cannot be reached (after the retries)", async () => {
    const org = await world.createOrg("Stripe down");
    const control = world.emulator.emulator.control;
    control.injectFailure({ kind: "error", status: 503, count: 3, pathPrefix: "/v1/account" });
    const down = await world.gateway.gql(
      SetConfig,
      { input: { clientId: keys().test.clientId, secretKey: keys().test.secretKey } },
      org.apiKey,
    );
    const payload = down.data?.setStripeConfig;
    expect(payload?.__typename).toBe("SetStripeConfigSuccess");
    if (payload?.__typename !== "SetStripeConfigSuccess") return;
    expect(payload.warnings).toHaveLength(1);
    expect(payload.warnings[0]).toMatch(/saved without Stripe's check: Stripe did not answer/);
    expect(control.info().failures).toEqual([]);

    // (stripe-node itself sends a request again once when its connection drops)
    control.injectFailure({ kind: "drop", count: 100, pathPrefix: "/v1/account" });
    const dropped = await world.gateway.gql(
      SetConfig,
      { input: { secretKey: keys().live.secretKey } },
      org.apiKey,
    );
    expect(dropped.data?.setStripeConfig).toMatchObject({
      __typename: "SetStripeConfigSuccess",
      warnings: [expect.stringContaining("saved without Stripe's check")],
      stripeConfig: { livemode: true },
    });
    control.clearFailures();
    // One failure, then an answer: the retry policy gets the check through.
    control.injectFailure({ kind: "error", status: 500, count: 1, pathPrefix: "/v1/account" });
    const retried = await world.gateway.gql(
      SetConfig,
      { input: { secretKey: keys().test.secretKey } },
      org.apiKey,
    );
    expect(retried.data?.setStripeConfig).toMatchObject({ warnings: [] });
  });

  it.each([
    ["secretKey", "sk_live_…", "this is the README's placeholder, not a value: paste the secret key"],
    ["secretKey", "sk_test_...", "this is the README's placeholder"],
    ["secretKey", "<your key>", "this is a placeholder, not a value: paste the secret key"],
    ["secretKey", "sk_test_", "this is a placeholder"],
    [
      "secretKey",
      "pk_live_51Habc",
      "this is a publishable key (pk_…, the one browsers use): paste the secret key",
    ],
    ["secretKey", "pk_test_51Habc", "this is a publishable key"],
    ["secretKey", "ca_123abc", "this is an OAuth client id (ca_…), which goes in clientId"],
    ["clientId", "ca_…", "this is the README's placeholder, not a value: paste the OAuth client id"],
    ["clientId", "sk_test_abc", "this is a secret key, which goes in secretKey"],
    ["webhookSigningSecret", "whsec_…", "this is the README's placeholder"],
  ])("says what %s %s is, without asking Stripe", async (field, value, message) => {
    const org = await world.createOrg(`Pasted ${value}`);
    const input = { clientId: "ca_valid123", secretKey: "sk_test_valid123", [field]: value };
    const control = world.emulator.emulator.control;
    // A failure waiting for the next /v1/account call: still waiting afterwards, so none was made.
    control.injectFailure({ kind: "error", status: 500, count: 1, pathPrefix: "/v1/account" });
    const result = await world.gateway.gql(SetConfig, { input }, org.apiKey);
    const payload = result.data?.setStripeConfig;
    expect(payload?.__typename).toBe("ValidationError");
    if (payload?.__typename !== "ValidationError") return;
    expect(payload.fieldErrors).toEqual([
      { path: ["input", field], message: expect.stringContaining(message) },
    ]);
    expect(control.info().failures).toHaveLength(1);
    control.clearFailures();
    expect(await configOf(org.rawId)).toBeNull();
  });
});
