import type { Deps } from "../deps.ts";
import type { StripeConnection } from "../generated/prisma/client.ts";
import type { SecretBox } from "../orgs/secrets.ts";
import { openSecretKey } from "../orgs/stripe-config.ts";
import { markNeedsReauth } from "./connection-status.ts";
import { type OAuthTokens, refreshTokens, StripeOAuthError } from "./oauth.ts";

/** Stripe Apps access tokens last one hour; Stripe does not say so in the response (no expires_in). */
export const ACCESS_TOKEN_LIFETIME_MS = 60 * 60 * 1000;
/** Refresh this long before expiry, so that a token never expires mid-sync. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export type Credentials = { apiKey: string; stripeAccount?: string };

export class NeedsReauthError extends Error {
  override name = "NeedsReauthError";
}

type TokenField = "accessToken" | "refreshToken";

export function sealToken(
  secrets: SecretBox,
  connectionId: string,
  field: TokenField,
  token: string,
): string {
  return secrets.seal(token, `connection:${connectionId}:${field}`);
}

function openToken(secrets: SecretBox, connectionId: string, field: TokenField, ciphertext: string): string {
  return secrets.open(ciphertext, `connection:${connectionId}:${field}`);
}

/** The columns that store a fresh grant. */
export function tokenColumns(
  deps: Pick<Deps, "secrets" | "clock">,
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

/**
 * How to call Stripe for a connection. Legacy Connect: the platform key with Stripe-Account. Stripe Apps:
 * the access token, refreshed first when it is (nearly) expired — once per connection however many
 * callers ask at the same moment, in this process (a shared promise) and across instances (a row lock).
 */
export function createCredentialsProvider(deps: Deps) {
  const inFlight = new Map<string, Promise<Credentials>>();

  async function credentials(
    connectionId: string,
    options: { forceRefresh?: boolean } = {},
  ): Promise<Credentials> {
    const connection = await deps.db.prisma.stripeConnection.findUniqueOrThrow({
      where: { id: connectionId },
      include: { org: { include: { stripeConfig: true } } },
    });
    const config = connection.org.stripeConfig;
    if (!config) throw new NeedsReauthError("Stripe is not configured for this org");
    if (!connection.accessTokenCiphertext || !connection.stripeAccountId) {
      throw new NeedsReauthError(`connection ${connectionId} has no Stripe authorization`);
    }
    if (connection.method === "LEGACY_CONNECT") {
      return { apiKey: openSecretKey(deps.secrets, config), stripeAccount: connection.stripeAccountId };
    }
    if (!options.forceRefresh && !isExpiring(deps, connection)) {
      return {
        apiKey: openToken(deps.secrets, connectionId, "accessToken", connection.accessTokenCiphertext),
      };
    }
    let pending = inFlight.get(connectionId);
    if (!pending) {
      pending = refreshLocked(
        connectionId,
        openSecretKey(deps.secrets, config),
        connection.accessTokenCiphertext,
      );
      inFlight.set(connectionId, pending);
      pending.finally(() => inFlight.delete(connectionId)).catch(() => {});
    }
    return pending;
  }

  async function refreshLocked(
    connectionId: string,
    secretKey: string,
    staleCiphertext: string,
  ): Promise<Credentials> {
    try {
      return await deps.db.prisma.$transaction(
        async (tx) => {
          // The row lock makes other instances wait here; they then find the token already renewed.
          const [row] = await tx.$queryRaw<
            {
              accessTokenCiphertext: string | null;
              refreshTokenCiphertext: string | null;
              accessTokenExpiresAt: Date | null;
            }[]
          >`SELECT "accessTokenCiphertext", "refreshTokenCiphertext", "accessTokenExpiresAt" FROM "StripeConnection" WHERE id = ${connectionId} FOR UPDATE`;
          if (!row?.accessTokenCiphertext || !row.refreshTokenCiphertext) {
            throw new NeedsReauthError(`connection ${connectionId} has no refresh token`);
          }
          if (row.accessTokenCiphertext !== staleCiphertext && !isExpiring(deps, row)) {
            return {
              apiKey: openToken(deps.secrets, connectionId, "accessToken", row.accessTokenCiphertext),
            };
          }
          const refreshToken = openToken(
            deps.secrets,
            connectionId,
            "refreshToken",
            row.refreshTokenCiphertext,
          );
          const tokens = await refreshTokens(deps.fetch, deps.config.stripe, secretKey, refreshToken);
          // Persisted in the same transaction: the old refresh token stops working the moment Stripe answers.
          await tx.stripeConnection.update({
            where: { id: connectionId },
            data: { ...tokenColumns(deps, connectionId, tokens), lastError: null },
          });
          deps.logger.debug({ connectionId }, "refreshed Stripe access token");
          return { apiKey: tokens.accessToken };
        },
        { timeout: 30_000, maxWait: 30_000 },
      );
    } catch (error) {
      if (error instanceof StripeOAuthError && error.code === "invalid_grant") {
        await markNeedsReauth(deps, connectionId, `Stripe refused the refresh token: ${error.description}`);
        throw new NeedsReauthError(
          `connection ${connectionId} needs to be reconnected (${error.description})`,
        );
      }
      throw error;
    }
  }

  return { credentials };
}

export type CredentialsProvider = ReturnType<typeof createCredentialsProvider>;

function isExpiring(deps: Pick<Deps, "clock">, row: Pick<StripeConnection, "accessTokenExpiresAt">): boolean {
  return (
    row.accessTokenExpiresAt !== null &&
    row.accessTokenExpiresAt.getTime() - deps.clock.now().getTime() < REFRESH_MARGIN_MS
  );
}
