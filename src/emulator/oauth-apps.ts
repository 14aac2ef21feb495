import type { Hono } from "hono";
import { oauthError } from "./api-errors.ts";
import { readCredential } from "./auth.ts";
import {
  type AuthorizeRequest,
  accountPublishableKey,
  authorizeErrorPage,
  completeAuthorization,
  consentPage,
  resolveClient,
} from "./oauth-authorize.ts";
import { readFormParams, stringParam } from "./params.ts";
import { findPlatformKey, type KeyMatch } from "./platforms.ts";
import { maskKey } from "./random.ts";
import type { EmulatorEnv, EmulatorState } from "./state.ts";
import type { Grant } from "./tokens.ts";

/** The platform's secret key authenticates token calls; anything else is an OAuth `invalid_client`. */
export function requireSecretKey(state: EmulatorState, key: string | undefined): KeyMatch {
  if (!key)
    throw oauthError(401, "invalid_client", "No authentication was provided. Send your secret API key.");
  const match = findPlatformKey(state.platforms, key);
  if (!match) {
    const issued = state.tokens.accessToken(key);
    throw oauthError(
      401,
      "invalid_client",
      issued
        ? `The provided key '${maskKey(key)}' does not have the required permissions for this endpoint. Use the secret key of the app developer account.`
        : `Invalid API Key provided: ${maskKey(key)}`,
    );
  }
  if (match.kind !== "secret")
    throw oauthError(
      401,
      "invalid_client",
      `The provided key '${maskKey(key)}' does not have the required permissions for this endpoint. Use the secret key of the app developer account.`,
    );
  return match;
}

export function tokenResponse(
  _state: EmulatorState,
  grant: Grant,
  accessToken: string,
  refreshToken: string,
) {
  return {
    access_token: accessToken,
    livemode: grant.mode === "live",
    refresh_token: refreshToken,
    scope: grant.scope,
    stripe_publishable_key: accountPublishableKey(grant.accountId, grant.mode),
    stripe_user_id: grant.accountId,
    token_type: "bearer",
  };
}

/** Stripe Apps OAuth: marketplace authorize links and `POST /v1/oauth/token`. */
export function registerAppsOAuth(app: Hono<EmulatorEnv>, state: EmulatorState): void {
  const authorize = (link: string | undefined, query: URLSearchParams): Response => {
    const client = resolveClient(
      state,
      query.get("client_id") ?? undefined,
      query.get("redirect_uri") ?? undefined,
    );
    if (!client.ok) return authorizeErrorPage(client.message);
    if (link !== undefined && !client.platform.oauthLinks.includes(link))
      return authorizeErrorPage("The provided OAuth link is invalid");
    const request: AuthorizeRequest = {
      flow: "apps",
      platform: client.platform,
      mode: client.mode,
      redirectUri: client.redirectUri,
      state: query.get("state") ?? undefined,
      scope: "stripe_apps",
    };
    const decision = state.oauth.decision;
    return decision === "page"
      ? consentPage(state, request)
      : completeAuthorization(state, request, decision);
  };
  app.get("/oauth/v2/authorize", (c) => authorize(undefined, new URL(c.req.url).searchParams));
  app.get("/oauth/v2/:link/authorize", (c) =>
    authorize(c.req.param("link"), new URL(c.req.url).searchParams),
  );

  app.post("/v1/oauth/token", async (c) => {
    const { platform, mode } = requireSecretKey(state, readCredential(c.req.raw));
    const params = await readFormParams(c.req.raw);
    const grantType = stringParam(params, "grant_type");
    const now = state.clock.now();
    if (grantType === "authorization_code") {
      const code = stringParam(params, "code");
      if (!code) throw oauthError(400, "invalid_request", "No authorization code provided");
      const entry = state.tokens.code(code);
      if (!entry) throw oauthError(400, "invalid_grant", `Authorization code does not exist: ${code}`);
      if (entry.kind !== "apps" || entry.platformId !== platform.id || entry.mode !== mode)
        throw oauthError(400, "invalid_grant", "Authorization code provided does not belong to you");
      if (entry.used)
        throw oauthError(400, "invalid_grant", `Authorization code has already been used: ${code}`);
      entry.used = true;
      if (entry.expiresAt !== null && entry.expiresAt <= now)
        throw oauthError(400, "invalid_grant", `Authorization code expired: ${code}`);
      const access = state.tokens.issueAccessToken(entry, now);
      return c.json(tokenResponse(state, entry, access, state.tokens.issueRefreshToken(entry, now)));
    }
    if (grantType === "refresh_token") {
      const token = stringParam(params, "refresh_token");
      if (!token) throw oauthError(400, "invalid_request", "No refresh token provided");
      const entry = state.tokens.refreshToken(token, now);
      if (entry?.kind !== "apps" || entry.platformId !== platform.id || entry.mode !== mode)
        throw oauthError(400, "invalid_grant", `Invalid refresh token: ${maskKey(token)}`);
      // Rotation: the presented refresh token stops working once exchanged.
      state.tokens.deleteRefreshToken(token);
      const access = state.tokens.issueAccessToken(entry, now);
      return c.json(tokenResponse(state, entry, access, state.tokens.issueRefreshToken(entry, now)));
    }
    if (!grantType) throw oauthError(400, "invalid_request", "No grant type specified");
    throw oauthError(400, "unsupported_grant_type", `Unsupported grant type: ${grantType}`);
  });
}
