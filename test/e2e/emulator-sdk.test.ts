import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StartedEmulator, startEmulator, startWebhookReceiver } from "../helpers/emulator.ts";

const REDIRECT = "http://localhost:4000/stripe/proxy/org_1/redirect";

describe("the official stripe SDK against the emulator", () => {
  let started: StartedEmulator;
  let secretKey: string;
  let liveKey: string;
  let accountId: string;

  beforeAll(async () => {
    started = await startEmulator({ seed: "sdk-e2e", accounts: 2, size: "small", rateLimits: false });
    const platform = started.emulator.platforms[0]!;
    secretKey = platform.keys.test.secretKey;
    liveKey = platform.keys.live.secretKey;
    accountId = started.emulator.accountIds[0]!;
  });
  afterAll(() => started.close());

  /** Runs the Stripe Apps authorize redirect and returns the `code` it carries. */
  async function authorizeCode(
    mode: "test" | "live" = "test",
    path = "/oauth/v2/authorize",
  ): Promise<string> {
    const clientId = started.emulator.platforms[0]!.keys[mode].clientId;
    const url = `${started.url}${path}?client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=s1`;
    const response = await fetch(url, { redirect: "manual" });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location")!);
    expect(location.searchParams.get("state")).toBe("s1");
    return location.searchParams.get("code")!;
  }

  async function appsTokens(code: string, key = secretKey) {
    const response = await started
      .stripe(key)
      .rawRequest("POST", "/v1/oauth/token", { grant_type: "authorization_code", code });
    return response as unknown as Record<string, string | boolean>;
  }

  it("auto-paginates every charge exactly once, newest first", async () => {
    const stripe = started.stripe(secretKey);
    const seen: Stripe.Charge[] = [];
    for await (const charge of stripe.charges.list({ limit: 100 }, { stripeAccount: accountId }))
      seen.push(charge);
    expect(seen.length).toBeGreaterThan(250);
    expect(new Set(seen.map((c) => c.id)).size).toBe(seen.length);
    for (let i = 1; i < seen.length; i++)
      expect(seen[i - 1]!.created).toBeGreaterThanOrEqual(seen[i]!.created);
    expect(seen.every((c) => c.livemode === false && c.object === "charge")).toBe(true);
  });

  it("retrieves objects and expands the balance transaction", async () => {
    const stripe = started.stripe(secretKey, { stripeAccount: accountId });
    const [first] = (await stripe.payouts.list({ limit: 1 })).data;
    const payout = await stripe.payouts.retrieve(first!.id, { expand: ["balance_transaction"] });
    expect(payout.id).toBe(first!.id);
    const txn = payout.balance_transaction as Stripe.BalanceTransaction;
    expect(txn.object).toBe("balance_transaction");
    expect(txn.net).toBe(-payout.amount);
    expect(payout.lastResponse.requestId).toMatch(/^req_/);
    const account = await stripe.accounts.retrieveCurrent();
    expect(account.id).toBe(accountId);
  });

  it("raises the SDK's own error classes", async () => {
    const stripe = started.stripe(secretKey, { stripeAccount: accountId, maxNetworkRetries: 0 });
    const badKey = "sk_test_thisKeyDoesNotExist1234";
    const auth = await started
      .stripe(badKey)
      .payouts.list()
      .catch((e: unknown) => e);
    expect(auth).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((auth as Stripe.errors.StripeError).statusCode).toBe(401);
    expect((auth as Stripe.errors.StripeError).message).toBe("Invalid API Key provided: sk_test_****1234");

    const missing = await stripe.payouts.retrieve("po_missing").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ statusCode: 404, code: "resource_missing", param: "id" });

    const badLimit = await stripe.charges.list({ limit: 101 }).catch((e: unknown) => e);
    expect(badLimit).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(badLimit).toMatchObject({ statusCode: 400, code: "parameter_invalid_integer", param: "limit" });

    started.emulator.control.injectFailure({ kind: "error", status: 500, pathPrefix: "/v1/charges" });
    const server = await stripe.charges.list().catch((e: unknown) => e);
    expect(server).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect((server as Stripe.errors.StripeError).statusCode).toBe(500);

    started.emulator.control.setRateLimits({ test: 2, live: 100 });
    try {
      const results = await Promise.allSettled([1, 2, 3, 4].map(() => stripe.customers.list({ limit: 1 })));
      const limited = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
      expect(limited?.reason).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
      expect(limited?.reason).toMatchObject({ statusCode: 429, code: "rate_limit" });
    } finally {
      started.emulator.control.setRateLimits(false);
    }
  });

  it("retries injected 503s with SDK retries and then succeeds", async () => {
    started.emulator.control.injectFailure({
      kind: "error",
      status: 503,
      count: 1,
      pathPrefix: "/v1/disputes",
    });
    const stripe = started.stripe(secretKey, { stripeAccount: accountId, maxNetworkRetries: 2 });
    const disputes = await stripe.disputes.list({ limit: 3 });
    expect(disputes.object).toBe("list");
  });

  it("surfaces a dropped connection as StripeConnectionError", async () => {
    // stripe-node retries a closed connection once even with maxNetworkRetries 0, so drop twice.
    started.emulator.control.injectFailure({ kind: "drop", count: 2, pathPrefix: "/v1/refunds" });
    const stripe = started.stripe(secretKey, { stripeAccount: accountId, maxNetworkRetries: 0 });
    const error = await stripe.refunds.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
  });

  it("exchanges a Stripe Apps code with rawRequest and uses the token as the API key", async () => {
    const tokens = await appsTokens(await authorizeCode());
    expect(tokens).toMatchObject({
      livemode: false,
      scope: "stripe_apps",
      stripe_user_id: accountId,
      token_type: "bearer",
    });
    expect(tokens).not.toHaveProperty("expires_in");
    const merchant = started.stripe(tokens.access_token as string);
    const balance = await merchant.balance.retrieve();
    expect(balance.object).toBe("balance");
    expect((await merchant.accounts.retrieveCurrent()).id).toBe(accountId);
  });

  it("rejects reused, expired and wrong-mode codes with StripeInvalidGrantError", async () => {
    const code = await authorizeCode();
    await appsTokens(code);
    const reused = await appsTokens(code).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(Stripe.errors.StripeInvalidGrantError);

    const liveCode = await authorizeCode("live");
    const wrongMode = await appsTokens(liveCode, secretKey).catch((e: unknown) => e);
    expect(wrongMode).toBeInstanceOf(Stripe.errors.StripeInvalidGrantError);
    expect((wrongMode as Error).message).toBe("Authorization code provided does not belong to you");
    expect((await appsTokens(liveCode, liveKey)).livemode).toBe(true);

    const stale = await authorizeCode();
    started.emulator.clock.advance(6 * 60_000);
    const expired = await appsTokens(stale).catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(Stripe.errors.StripeInvalidGrantError);
  });

  it("rotates refresh tokens and expires access tokens after an hour", async () => {
    const stripe = started.stripe(secretKey);
    const first = await appsTokens(
      await authorizeCode("test", `/oauth/v2/${started.emulator.platforms[0]!.oauthLinks[0]}/authorize`),
    );
    const refreshed = (await stripe.rawRequest("POST", "/v1/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token as string,
    })) as unknown as Record<string, string>;
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);
    const again = await stripe
      .rawRequest("POST", "/v1/oauth/token", {
        grant_type: "refresh_token",
        refresh_token: first.refresh_token as string,
      })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidGrantError);

    const merchant = started.stripe(refreshed.access_token!, { maxNetworkRetries: 0 });
    await merchant.payouts.list({ limit: 1 });
    started.emulator.clock.advance(60 * 60_000);
    const expired = await merchant.payouts.list({ limit: 1 }).catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((expired as Stripe.errors.StripeError).code).toBe("api_key_expired");
  });

  it("denies a Stripe Apps token the permissions the app was not granted", async () => {
    const control = started.emulator.control;
    control.updatePlatform(undefined, { permissions: ["connected_account_read", "payout_read"] });
    try {
      const tokens = await appsTokens(await authorizeCode());
      const merchant = started.stripe(tokens.access_token as string, { maxNetworkRetries: 0 });
      await merchant.payouts.list({ limit: 1 });
      const denied = await merchant.charges.list().catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(Stripe.errors.StripePermissionError);
      expect((denied as Stripe.errors.StripeError).statusCode).toBe(403);
    } finally {
      control.updatePlatform(undefined, {
        permissions: [...(await import("../../src/emulator/types.ts")).PERMISSIONS],
      });
    }
  });

  it("runs legacy Connect OAuth with stripe.oauth.token and deauthorize", async () => {
    const platform = started.emulator.platforms[0]!;
    const other = started.emulator.accountIds[1]!;
    started.emulator.control.setNextAccount(other);
    const authorize = `${started.url}/oauth/authorize?response_type=code&client_id=${platform.keys.test.clientId}&scope=read_only&redirect_uri=${encodeURIComponent(REDIRECT)}&state=abc`;
    const redirect = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
    expect(redirect.searchParams.get("scope")).toBe("read_only");
    const code = redirect.searchParams.get("code")!;
    const stripe = started.stripe(secretKey, { maxNetworkRetries: 0 });
    const token = await stripe.oauth.token({ grant_type: "authorization_code", code });
    expect(token).toMatchObject({
      stripe_user_id: other,
      livemode: false,
      scope: "read_only",
      token_type: "bearer",
    });
    const reused = await stripe.oauth
      .token({ grant_type: "authorization_code", code })
      .catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(Stripe.errors.StripeInvalidGrantError);

    started.emulator.control.setNextAccount(other); // "next account" applies to one authorization
    const fresh = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
    const legacy = await stripe.oauth.token({
      grant_type: "authorization_code",
      code: fresh.searchParams.get("code")!,
    });
    started.emulator.clock.advance(2 * 60 * 60_000); // legacy tokens do not expire
    expect((await started.stripe(legacy.access_token!).charges.list({ limit: 1 })).object).toBe("list");
    expect((await stripe.charges.list({ limit: 1 }, { stripeAccount: other })).object).toBe("list");

    // Expired (older than 5 minutes) and wrong-mode codes are invalid grants too.
    const expiring = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
    started.emulator.clock.advance(6 * 60_000);
    const expired = await stripe.oauth
      .token({ grant_type: "authorization_code", code: expiring.searchParams.get("code")! })
      .catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(Stripe.errors.StripeInvalidGrantError);
    const liveAuthorize = authorize.replace(platform.keys.test.clientId, platform.keys.live.clientId);
    const liveCode = new URL((await fetch(liveAuthorize, { redirect: "manual" })).headers.get("location")!);
    const wrongMode = await stripe.oauth
      .token({ grant_type: "authorization_code", code: liveCode.searchParams.get("code")! })
      .catch((e: unknown) => e);
    expect(wrongMode).toBeInstanceOf(Stripe.errors.StripeInvalidGrantError);

    const result = await stripe.oauth.deauthorize({
      client_id: platform.keys.test.clientId,
      stripe_user_id: other,
    });
    expect(result.stripe_user_id).toBe(other);
    const revoked = await started
      .stripe(legacy.access_token!, { maxNetworkRetries: 0 })
      .charges.list()
      .catch((e: unknown) => e);
    expect(revoked).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    const noAccess = await stripe.charges.list({}, { stripeAccount: other }).catch((e: unknown) => e);
    expect(noAccess).toBeInstanceOf(Stripe.errors.StripePermissionError);
    const events = await stripe.events.list(
      { type: "account.application.deauthorized" },
      { stripeAccount: accountId },
    );
    expect(events.data.every((e) => e.account === accountId)).toBe(true);
  });

  it("delivers webhooks that stripe.webhooks.constructEvent accepts", async () => {
    const receiver = await startWebhookReceiver();
    const secret = "whsec_emulatorE2eSecret";
    try {
      started.emulator.control.addWebhookEndpoint({ url: receiver.url, secret, connect: true });
      const [payout] = (
        await started.stripe(secretKey).payouts.list({ status: "pending" }, { stripeAccount: accountId })
      ).data;
      const created = payout ?? started.emulator.control.createPayout(accountId, "test");
      started.emulator.control.payPayout(created.id);
      await started.emulator.control.flushWebhooks();
      const delivered = receiver.received.find((r) => r.event.type === "payout.paid");
      expect(delivered).toBeDefined();
      const event = Stripe.webhooks.constructEvent(
        delivered!.body,
        delivered!.headers["stripe-signature"] as string,
        secret,
      );
      expect(event).toMatchObject({ type: "payout.paid", account: accountId, livemode: false });
      expect((event.data.object as Stripe.Payout).status).toBe("paid");
      const updated = receiver.received.find((r) => r.event.type === "payout.updated");
      expect(updated?.event.data.previous_attributes.status).not.toBe("paid");
    } finally {
      await receiver.close();
    }
  });
});
