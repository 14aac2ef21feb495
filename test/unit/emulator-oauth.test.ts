import { beforeEach, describe, expect, it } from "vitest";
import { createEmulator, type Emulator } from "../../src/emulator/create-emulator.ts";
import { call } from "../helpers/emulator.ts";

const REDIRECT = "https://gateway.example/stripe/proxy/org_1/redirect";

describe("emulator OAuth", () => {
  let emulator: Emulator;
  let clientId: string;
  let key: string;
  const authorize = (path: string, params: Record<string, string>) =>
    emulator.fetch(new Request(`http://emulator.test${path}?${new URLSearchParams(params)}`));

  beforeEach(() => {
    emulator = createEmulator({
      seed: "oauth",
      accounts: 2,
      size: "tiny",
      platforms: [{ name: "Acme Gateway", redirectUris: [REDIRECT, "https://gateway.example/other"] }],
    });
    clientId = emulator.platforms[0]!.keys.test.clientId;
    key = emulator.platforms[0]!.keys.test.secretKey;
  });

  it("redirects to the default (first) redirect URI with a code and the state", async () => {
    const response = await authorize("/oauth/v2/authorize", { client_id: clientId, state: "st" });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("code")).toMatch(/^ac_/);
    expect(location.searchParams.get("state")).toBe("st");
  });

  it("shows an error page instead of redirecting for a bad client_id, redirect_uri or link", async () => {
    for (const [path, params] of [
      ["/oauth/v2/authorize", { client_id: "ca_unknown" }],
      ["/oauth/v2/authorize", { client_id: clientId, redirect_uri: `${REDIRECT}/evil` }],
      ["/oauth/v2/chnlink_wrong/authorize", { client_id: clientId }],
    ] as const) {
      const response = await authorize(path, params);
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.get("content-type")).toContain("text/html");
    }
  });

  it("denies with access_denied when configured", async () => {
    await call(emulator, "/_emulator/oauth", { json: { decision: "deny" } });
    const response = await authorize("/oauth/v2/authorize", { client_id: clientId, state: "st" });
    const location = new URL(response.headers.get("location")!);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error: "access_denied",
      error_description: "The user denied your request",
      state: "st",
    });
  });

  it("serves a consent page whose form approves for the chosen account", async () => {
    emulator.control.setOAuthDecision("page");
    const page = await authorize("/oauth/v2/authorize", { client_id: clientId, state: "st" });
    const html = await page.text();
    expect(html).toContain("Acme Gateway");
    for (const id of emulator.accountIds) expect(html).toContain(id);
    const chosen = emulator.accountIds[1]!;
    const consent = await call(emulator, "/oauth/consent", {
      form: {
        flow: "apps",
        client_id: clientId,
        redirect_uri: REDIRECT,
        state: "st",
        decision: "approve",
        account: chosen,
      },
    });
    const code = new URL(consent.headers.get("location")!).searchParams.get("code")!;
    const token = await call(emulator, "/v1/oauth/token", {
      key,
      form: { grant_type: "authorization_code", code },
    });
    expect(token.body.stripe_user_id).toBe(chosen);
  });

  it("answers token errors in the OAuth shape", async () => {
    const noKey = await call(emulator, "/v1/oauth/token", {
      form: { grant_type: "authorization_code", code: "ac_x" },
    });
    expect(noKey.status).toBe(401);
    expect(noKey.body.error).toBe("invalid_client");
    const restricted = emulator.platforms[0]!.keys.test.restrictedKey;
    const rk = await call(emulator, "/v1/oauth/token", {
      key: restricted,
      form: { grant_type: "authorization_code", code: "ac_x" },
    });
    expect(rk.body.error).toBe("invalid_client");
    expect(JSON.stringify(rk.body)).not.toContain(restricted);
    const unknown = await call(emulator, "/v1/oauth/token", {
      key,
      form: { grant_type: "authorization_code", code: "ac_x" },
    });
    expect(unknown).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const grant = await call(emulator, "/v1/oauth/token", { key, form: { grant_type: "password" } });
    expect(grant.body.error).toBe("unsupported_grant_type");
  });

  it("never echoes a whole key or token in error responses", async () => {
    const platform = emulator.platforms[0]!;
    const location = (await authorize("/oauth/v2/authorize", { client_id: clientId })).headers.get(
      "location",
    )!;
    const code = new URL(location).searchParams.get("code")!;
    const token = (
      await call(emulator, "/v1/oauth/token", { key, form: { grant_type: "authorization_code", code } })
    ).body;
    emulator.control.updatePlatform(undefined, { permissions: ["payout_read"] });
    const secrets = [
      key,
      platform.keys.test.restrictedKey,
      platform.keys.live.secretKey,
      token.access_token,
      token.refresh_token,
    ];
    const attempts = [
      call(emulator, "/v1/charges", { key: token.access_token }),
      call(emulator, "/v1/charges", { key: token.access_token, account: emulator.accountIds[1] }),
      call(emulator, "/v1/charges", { key: platform.keys.live.secretKey, account: "acct_1Unknown" }),
      call(emulator, "/v1/oauth/token", { key: token.access_token, form: { grant_type: "refresh_token" } }),
      call(emulator, "/v1/oauth/token", {
        key: platform.keys.test.restrictedKey,
        form: { grant_type: "refresh_token" },
      }),
      call(emulator, "/v1/oauth/token", {
        key,
        form: { grant_type: "refresh_token", refresh_token: `${token.refresh_token}x` },
      }),
      call(emulator, "/oauth/token", { key: `${key}x`, form: { grant_type: "authorization_code", code } }),
    ];
    for (const { status, body } of await Promise.all(attempts)) {
      expect(status).toBeGreaterThanOrEqual(400);
      for (const secret of secrets) expect(JSON.stringify(body)).not.toContain(secret);
    }
    emulator.clock.advance(61 * 60_000);
    const expired = await call(emulator, "/v1/payouts", { key: token.access_token });
    expect(expired.body.error.code).toBe("api_key_expired");
    expect(JSON.stringify(expired.body)).not.toContain(token.access_token);
  });

  it("legacy authorize returns JSON errors for bad scope and response_type, and redirects with scope", async () => {
    const scope = await authorize("/oauth/authorize", {
      response_type: "code",
      client_id: clientId,
      scope: "admin",
    });
    expect(scope.status).toBe(400);
    expect(await scope.json()).toMatchObject({ error: "invalid_scope" });
    const type = await authorize("/oauth/authorize", { response_type: "token", client_id: clientId });
    expect(await type.json()).toMatchObject({ error: "unsupported_response_type" });
    const ok = await authorize("/oauth/authorize", {
      response_type: "code",
      client_id: clientId,
      state: "x",
    });
    expect(new URL(ok.headers.get("location")!).searchParams.get("scope")).toBe("read_only");
  });

  it("uninstalling stops tokens and Stripe-Account access and records the event", async () => {
    const account = emulator.accountIds[0]!;
    const location = (await authorize("/oauth/v2/authorize", { client_id: clientId })).headers.get(
      "location",
    )!;
    const code = new URL(location).searchParams.get("code")!;
    const token = (
      await call(emulator, "/v1/oauth/token", { key, form: { grant_type: "authorization_code", code } })
    ).body;
    expect((await call(emulator, "/v1/payouts", { key: token.access_token })).status).toBe(200);
    const uninstall = await call(emulator, `/_emulator/accounts/${account}/uninstall`, { json: {} });
    expect(uninstall.body.events).toHaveLength(2); // one per mode in which the app was installed
    expect((await call(emulator, "/v1/payouts", { key: token.access_token })).status).toBe(401);
    expect((await call(emulator, "/v1/payouts", { key, account })).status).toBe(403);
    const refresh = await call(emulator, "/v1/oauth/token", {
      key,
      form: { grant_type: "refresh_token", refresh_token: token.refresh_token },
    });
    expect(refresh.body.error).toBe("invalid_grant");
    const other = emulator.accountIds[1]!;
    const events = await call(emulator, "/v1/events?type=account.application.deauthorized", {
      key,
      account: other,
    });
    expect(events.body.data).toHaveLength(0);
    // Reinstalling through OAuth records account.application.authorized and restores access.
    emulator.control.setNextAccount(account);
    await authorize("/oauth/v2/authorize", { client_id: clientId });
    expect((await call(emulator, "/v1/payouts", { key, account })).status).toBe(200);
    const log = await call(
      emulator,
      "/v1/events?types[]=account.application.authorized&types[]=account.application.deauthorized",
      {
        key,
        account,
      },
    );
    expect(log.body.data.map((e: { type: string }) => e.type)).toEqual([
      "account.application.authorized",
      "account.application.deauthorized",
    ]);
    expect(log.body.data[1].data.object).toEqual({
      id: clientId,
      object: "application",
      name: "Acme Gateway",
    });
  });
});
