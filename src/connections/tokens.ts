// How a connection's OAuth tokens are stored: sealed with AES-256-GCM, bound to the connection and field.
import type { Clock } from "../clock.ts";
import type { SecretBox } from "../orgs/secrets.ts";
import type { OAuthTokens } from "../stripe/oauth.ts";

/** Stripe Apps access tokens last one hour; Stripe does not say so in the response (no expires_in). */
export const ACCESS_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export type TokenField = "accessToken" | "refreshToken";

export function sealToken(
  secrets: SecretBox,
  connectionId: string,
  field: TokenField,
  token: string,
): string {
  return secrets.seal(token, `connection:${connectionId}:${field}`);
}

export function openToken(
  secrets: SecretBox,
  connectionId: string,
  field: TokenField,
  ciphertext: string,
): string {
  return secrets.open(ciphertext, `connection:${connectionId}:${field}`);
}

/** The columns that store a fresh grant. */
export function tokenColumns(
  deps: { secrets: SecretBox; clock: Clock },
  connectionId: string,
  tokens: OAuthTokens,
) {
  const expires = tokens.refreshToken
    ? new Date(deps.clock.now().getTime() + ACCESS_TOKEN_LIFETIME_MS)
    : null;
  return {
    accessTokenCiphertext: sealToken(deps.secrets, connectionId, "accessToken", tokens.accessToken),
    refreshTokenCiphertext: tokens.refreshToken
      ? sealToken(deps.secrets, connectionId, "refreshToken", tokens.refreshToken)
      : null,
    accessTokenExpiresAt: expires,
    scope: tokens.scope,
  };
}

/** Clears every stored token of a connection. */
export const NO_TOKENS = {
  accessTokenCiphertext: null,
  refreshTokenCiphertext: null,
  accessTokenExpiresAt: null,
} as const;
