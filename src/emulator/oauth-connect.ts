import type { Hono } from "hono";
import { oauthError } from "./api-errors.ts";
import { readCredential } from "./auth.ts";
import { uninstallApp } from "./mutations-payouts.ts";
import { requireSecretKey, tokenResponse } from "./oauth-apps.ts";
import {
  type AuthorizeRequest,
  authorizeErrorPage,
  completeAuthorization,
  consentPage,
  resolveClient,
} from "./oauth-authorize.ts";
import { type Params, readFormParams, stringParam } from "./params.ts";
import { maskKey } from "./random.ts";
import type { EmulatorEnv, EmulatorState } from "./state.ts";
import { connectionKey } from "./store.ts";

const SCOPES = ["read_only", "read_write"];

/** Legacy Connect OAuth (connect.stripe.com): authorize, token, deauthorize, and the consent form. */
export function registerConnectOAuth(app: Hono<EmulatorEnv>, state: EmulatorState): void {
  app.get("/oauth/authorize", (c) => {
    const query = new URL(c.req.url).searchParams;
    // Stripe answers these as JSON rather than redirecting.
    if (query.get("response_type") !== "code")
      return c.json(
        { error: "unsupported_response_type", error_description: "Only 'code' response_type is supported" },
        400,
      );
    const client = resolveClient(
      state,
      query.get("client_id") ?? undefined,
      query.get("redirect_uri") ?? undefined,
    );
    if (!client.ok) return c.json({ error: client.error, error_description: client.message }, 400);
    const scope = query.get("scope") ?? "read_only";
    if (!SCOPES.includes(scope))
      return c.json({ error: "invalid_scope", error_description: `Invalid scope: ${scope}` }, 400);
    const request: AuthorizeRequest = {
      flow: "connect",
      platform: client.platform,
      mode: client.mode,
      redirectUri: client.redirectUri,
      state: query.get("state") ?? undefined,
      scope,
    };
    const decision = state.oauth.decision;
    return decision === "page"
      ? consentPage(state, request)
      : completeAuthorization(state, request, decision);
  });

  app.post("/oauth/consent", async (c) => {
    const form = await readFormParams(c.req.raw);
    const client = resolveClient(state, stringParam(form, "client_id"), stringParam(form, "redirect_uri"));
    if (!client.ok) return authorizeErrorPage(client.message);
    const flow = stringParam(form, "flow") === "connect" ? "connect" : "apps";
    const request: AuthorizeRequest = {
      flow,
      platform: client.platform,
      mode: client.mode,
      redirectUri: client.redirectUri,
      state: stringParam(form, "state") || undefined,
      scope: flow === "apps" ? "stripe_apps" : (stringParam(form, "scope") ?? "read_only"),
    };
    const decision = stringParam(form, "decision") === "approve" ? "approve" : "deny";
    return completeAuthorization(state, request, decision, stringParam(form, "account"));
  });

  const platformKey = (request: Request, form: Params) =>
    requireSecretKey(state, readCredential(request) ?? stringParam(form, "client_secret"));

  app.post("/oauth/token", async (c) => {
    const form = await readFormParams(c.req.raw);
    const { platform, mode } = platformKey(c.req.raw, form);
    const grantType = stringParam(form, "grant_type");
    const now = state.clock.now();
    if (grantType === "authorization_code") {
      const code = stringParam(form, "code");
      if (!code) throw oauthError(400, "invalid_request", "No authorization code provided");
      const entry = state.tokens.code(code);
      if (entry?.kind !== "connect" || entry.platformId !== platform.id || entry.mode !== mode)
        throw oauthError(400, "invalid_grant", `Authorization code does not exist: ${code}`);
      if (entry.used) {
        // Stripe: using a code twice revokes the access it granted.
        state.tokens.revokeGrant(entry);
        throw oauthError(400, "invalid_grant", `Authorization code has already been used: ${code}`);
      }
      entry.used = true;
      if (entry.expiresAt !== null && entry.expiresAt <= now)
        throw oauthError(400, "invalid_grant", `Authorization code expired: ${code}`);
      const access = state.tokens.issueAccessToken(entry, now);
      return c.json(tokenResponse(state, entry, access, state.tokens.issueRefreshToken(entry, now)));
    }
    if (grantType === "refresh_token") {
      const token = stringParam(form, "refresh_token");
      if (!token) throw oauthError(400, "invalid_request", "No refresh token provided");
      const entry = state.tokens.refreshToken(token, now);
      if (entry?.kind !== "connect" || entry.platformId !== platform.id || entry.mode !== mode)
        throw oauthError(400, "invalid_grant", `Invalid refresh token: ${maskKey(token)}`);
      const scope = stringParam(form, "scope") ?? entry.scope;
      if (!SCOPES.includes(scope) || (entry.scope === "read_only" && scope === "read_write"))
        throw oauthError(400, "invalid_scope", `Invalid scope: ${scope}`);
      // A refreshed legacy token replaces the previous access token of the same grant.
      const grant = { ...entry, scope };
      state.tokens.revokeAccessTokens(grant);
      return c.json(tokenResponse(state, grant, state.tokens.issueAccessToken(grant, now), token));
    }
    if (!grantType) throw oauthError(400, "invalid_request", "No grant type specified");
    throw oauthError(400, "unsupported_grant_type", `Unsupported grant type: ${grantType}`);
  });

  app.post("/oauth/deauthorize", async (c) => {
    const form = await readFormParams(c.req.raw);
    const { platform, mode } = platformKey(c.req.raw, form);
    const clientId = stringParam(form, "client_id");
    if (clientId !== undefined && clientId !== platform.keys[mode].clientId)
      throw oauthError(400, "invalid_client", `No such application: '${clientId}'`);
    const accountId = stringParam(form, "stripe_user_id");
    if (!accountId) throw oauthError(400, "invalid_request", "No stripe_user_id provided");
    const account = state.store.account(accountId);
    if (!account?.connections.get(connectionKey(platform.id, mode)))
      throw oauthError(
        400,
        "invalid_client",
        `This application is not connected to stripe account ${accountId}, or that account does not exist.`,
      );
    uninstallApp(state, accountId, { platformId: platform.id, modes: [mode] });
    return c.json({ stripe_user_id: accountId });
  });
}
