import { oauthError } from "./api-errors.ts";
import { readCredential } from "./auth.ts";
import { accountPublishableKey } from "./oauth-authorize.ts";
import { readFormParams, stringParam } from "./params.ts";
import { findPlatformKey, type KeyMatch } from "./platforms.ts";
import { maskKey } from "./random.ts";
import type { EmulatorState } from "./state.ts";
import type { Grant, GrantKind } from "./tokens.ts";

const SCOPES = ["read_only", "read_write"];
const NOT_PERMITTED =
  "does not have the required permissions for this endpoint. Use the secret key of the app developer account.";

/** The platform's secret key authenticates token calls; anything else is an OAuth `invalid_client`. */
export function requireSecretKey(state: EmulatorState, key: string | undefined): KeyMatch {
  if (!key)
    throw oauthError(401, "invalid_client", "No authentication was provided. Send your secret API key.");
  const match = findPlatformKey(state.platforms, key);
  // Restricted keys and access tokens are real credentials, just not for this endpoint.
  if (match?.kind === "restricted" || (!match && state.tokens.accessToken(key)))
    throw oauthError(401, "invalid_client", `The provided key '${maskKey(key)}' ${NOT_PERMITTED}`);
  if (!match) throw oauthError(401, "invalid_client", `Invalid API Key provided: ${maskKey(key)}`);
  return match;
}

function tokenResponse(grant: Grant, accessToken: string, refreshToken: string) {
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

/**
 * Both token endpoints: `POST /v1/oauth/token` (Stripe Apps) and `POST /oauth/token` (Connect).
 * They differ in refresh: Stripe Apps rotates the refresh token, Connect keeps it and replaces the
 * access token; and a reused Connect code revokes what it granted.
 */
export async function exchangeToken(
  state: EmulatorState,
  request: Request,
  flow: GrantKind,
): Promise<Response> {
  const form = await readFormParams(request);
  const key =
    readCredential(request) ?? (flow === "connect" ? stringParam(form, "client_secret") : undefined);
  const { platform, mode } = requireSecretKey(state, key);
  const belongs = (grant: Grant) =>
    grant.kind === flow && grant.platformId === platform.id && grant.mode === mode;
  const grantType = stringParam(form, "grant_type");
  const now = state.clock.now();

  if (grantType === "authorization_code") {
    const code = stringParam(form, "code");
    if (!code) throw oauthError(400, "invalid_request", "No authorization code provided");
    const entry = state.tokens.code(code);
    if (!entry) throw oauthError(400, "invalid_grant", `Authorization code does not exist: ${code}`);
    if (!belongs(entry))
      throw oauthError(400, "invalid_grant", "Authorization code provided does not belong to you");
    if (entry.used) {
      if (flow === "connect") state.tokens.revokeGrant(entry);
      throw oauthError(400, "invalid_grant", `Authorization code has already been used: ${code}`);
    }
    entry.used = true;
    if (entry.expiresAt !== null && entry.expiresAt <= now)
      throw oauthError(400, "invalid_grant", `Authorization code expired: ${code}`);
    const access = state.tokens.issueAccessToken(entry, now);
    return Response.json(tokenResponse(entry, access, state.tokens.issueRefreshToken(entry, now)));
  }

  if (grantType === "refresh_token") {
    const token = stringParam(form, "refresh_token");
    if (!token) throw oauthError(400, "invalid_request", "No refresh token provided");
    const entry = state.tokens.refreshToken(token, now);
    if (!entry || !belongs(entry))
      throw oauthError(400, "invalid_grant", `Invalid refresh token: ${maskKey(token)}`);
    if (flow === "apps") {
      // Rotation: the presented refresh token stops working once exchanged.
      state.tokens.deleteRefreshToken(token);
      const access = state.tokens.issueAccessToken(entry, now);
      return Response.json(tokenResponse(entry, access, state.tokens.issueRefreshToken(entry, now)));
    }
    const scope = stringParam(form, "scope") ?? entry.scope;
    if (!SCOPES.includes(scope) || (entry.scope === "read_only" && scope === "read_write"))
      throw oauthError(400, "invalid_scope", `Invalid scope: ${scope}`);
    // A refreshed Connect token replaces the previous access token of the same grant.
    const grant = { ...entry, scope };
    state.tokens.revokeAccessTokens(grant);
    return Response.json(tokenResponse(grant, state.tokens.issueAccessToken(grant, now), token));
  }

  if (!grantType) throw oauthError(400, "invalid_request", "No grant type specified");
  throw oauthError(400, "unsupported_grant_type", `Unsupported grant type: ${grantType}`);
}
