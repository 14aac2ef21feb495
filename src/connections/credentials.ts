import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { createConnectionLease } from "../db/connection-lease.ts";
import type { StripeConnection } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";
import type { SecretBox } from "../orgs/secrets.ts";
import { openSecretKey } from "../orgs/stripe-config.ts";
import { type HttpFetch, type OAuthTokens, refreshTokens, StripeOAuthError } from "../stripe/oauth.ts";
import { markNeedsReauth, type StatusDeps } from "./status.ts";
import { openToken, tokenColumns } from "./tokens.ts";

/** Refresh this long before expiry, so that a token never expires mid-sync. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** Request options that make one Stripe call on behalf of a connection. */
export type Credentials = { apiKey: string; stripeAccount?: string };

export class NeedsReauthError extends Error {
  override name = "NeedsReauthError";
}

export type CredentialsProvider = {
  /** `forceRefresh`: Stripe refused the current access token; a Stripe Apps connection renews it first. */
  credentials(connectionId: string, options?: { forceRefresh?: boolean }): Promise<Credentials>;
};

/** What the provider needs: the rows and keys, Stripe's token endpoint, and a way to mark NEEDS_REAUTH. */
export type CredentialsDeps = StatusDeps & {
  db: Pick<Database, "prisma" | "sql">;
  config: Pick<Config, "stripe">;
  clock: Clock;
  secrets: SecretBox;
  /** HTTP client for Stripe's OAuth endpoints */
  fetch: HttpFetch;
  logger: Logger;
};

/** A refresh's answer is awaited this long; past it, Stripe may still have rotated the refresh token. */
const REFRESH_TIMEOUT_MS = 60_000;
/** The refresh lease outlives the call it guards, so nobody else sends the refresh token meanwhile. */
const LEASE_TTL_MS = REFRESH_TIMEOUT_MS + 30_000;
const STORE_ATTEMPTS = 4;

type TokenRow = Pick<
  StripeConnection,
  "accessTokenCiphertext" | "refreshTokenCiphertext" | "accessTokenExpiresAt"
>;

type CallRow = Pick<
  StripeConnection,
  "orgId" | "method" | "stripeAccountId" | "accessTokenCiphertext" | "accessTokenExpiresAt"
> & { secretKeyCiphertext: string | null };

/**
 * How to call Stripe for a connection. Legacy Connect: the platform key with Stripe-Account. Stripe Apps:
 * the access token, refreshed first when it is (nearly) expired — once per connection however many
 * callers ask at the same moment, in this process (a shared promise) and across instances (a lease on
 * the connection row; no transaction or lock is held while Stripe is called).
 */
export function createCredentialsProvider(deps: CredentialsDeps): CredentialsProvider {
  const lease = createConnectionLease(
    deps,
    `${process.pid}-${randomUUID()}`,
    { owner: "tokenRefreshOwner", until: "tokenRefreshUntil" },
    LEASE_TTL_MS,
  );
  const inFlight = new Map<string, Promise<Credentials>>();

  async function credentials(
    connectionId: string,
    options: { forceRefresh?: boolean } = {},
  ): Promise<Credentials> {
    const connection = await readCallRow(connectionId);
    if (!connection) throw new Error(`connection ${connectionId} does not exist`);
    const config = connection.secretKeyCiphertext
      ? { orgId: connection.orgId, secretKeyCiphertext: connection.secretKeyCiphertext }
      : null;
    if (!config) throw new NeedsReauthError("Stripe is not configured for this org");
    if (!connection.accessTokenCiphertext || !connection.stripeAccountId) {
      throw new NeedsReauthError(`connection ${connectionId} has no Stripe authorization`);
    }
    if (connection.method === "LEGACY_CONNECT") {
      return { apiKey: openSecretKey(deps.secrets, config), stripeAccount: connection.stripeAccountId };
    }
    if (!options.forceRefresh && !isExpiring(deps, connection)) {
      return storedCredentials(connectionId, connection);
    }
    let pending = inFlight.get(connectionId);
    if (!pending) {
      pending = refreshOnce(
        connectionId,
        openSecretKey(deps.secrets, config),
        connection.accessTokenCiphertext,
      );
      inFlight.set(connectionId, pending);
      pending.finally(() => inFlight.delete(connectionId)).catch(() => {});
    }
    return pending;
  }

  /** Refreshes under the lease, or waits for the instance holding it to store a new token. */
  async function refreshOnce(
    connectionId: string,
    secretKey: string,
    staleCiphertext: string,
  ): Promise<Credentials> {
    const giveUpAt = deps.clock.now().getTime() + LEASE_TTL_MS + 10_000;
    for (;;) {
      const leased = await lease.acquire(connectionId);
      try {
        const row = await readTokenRow(connectionId);
        if (!row.accessTokenCiphertext || !row.refreshTokenCiphertext) {
          throw new NeedsReauthError(`connection ${connectionId} has no refresh token`);
        }
        if (row.accessTokenCiphertext !== staleCiphertext && !isExpiring(deps, row)) {
          return storedCredentials(connectionId, row);
        }
        if (leased) return await refreshHoldingLease(connectionId, secretKey, row.refreshTokenCiphertext);
      } finally {
        // A lease left behind only delays the next refresh until it expires.
        if (leased)
          await lease
            .release(connectionId)
            .catch((error: unknown) =>
              deps.logger.warn(
                { connectionId, error: describeError(error) },
                "could not release the token lease",
              ),
            );
      }
      if (deps.clock.now().getTime() > giveUpAt) {
        throw new Error(`connection ${connectionId}: another instance's token refresh did not finish`);
      }
      await sleep(100 + Math.random() * 150);
    }
  }

  async function refreshHoldingLease(
    connectionId: string,
    secretKey: string,
    refreshCiphertext: string,
  ): Promise<Credentials> {
    const refreshToken = openToken(deps.secrets, connectionId, "refreshToken", refreshCiphertext);
    let tokens: OAuthTokens;
    try {
      tokens = await refreshTokens(deps.fetch, deps.config.stripe, secretKey, refreshToken, {
        timeoutMs: REFRESH_TIMEOUT_MS,
      });
    } catch (error) {
      if (error instanceof StripeOAuthError && error.code === "invalid_grant") {
        return afterInvalidGrant(connectionId, refreshCiphertext, error);
      }
      throw error;
    }
    return storeRefreshed(connectionId, refreshCiphertext, tokens);
  }

  /** Stripe has already retired the old refresh token: the new one is stored before anything uses it. */
  async function storeRefreshed(
    connectionId: string,
    usedCiphertext: string,
    tokens: OAuthTokens,
  ): Promise<Credentials> {
    const data = { ...tokenColumns(deps, connectionId, tokens), lastError: null };
    for (let attempt = 1; ; attempt++) {
      try {
        // Only over the grant we refreshed: a reconnect or disconnect meanwhile keeps its own tokens.
        const { count } = await deps.db.prisma.stripeConnection.updateMany({
          where: { id: connectionId, refreshTokenCiphertext: usedCiphertext },
          data,
        });
        if (count === 0) return storedCredentials(connectionId, await readTokenRow(connectionId));
        deps.logger.debug({ connectionId }, "refreshed Stripe access token");
        return { apiKey: tokens.accessToken };
      } catch (error) {
        const failure = { connectionId, attempt, error: describeError(error) };
        if (attempt >= STORE_ATTEMPTS) {
          deps.logger.error(failure, "could not store the rotated Stripe refresh token");
          throw error;
        }
        deps.logger.warn(failure, "storing the rotated Stripe refresh token failed; retrying");
        await sleep(100 * 2 ** (attempt - 1));
      }
    }
  }

  /** invalid_grant is ours only if the stored refresh token is still the one we sent. */
  async function afterInvalidGrant(
    connectionId: string,
    usedCiphertext: string,
    error: StripeOAuthError,
  ): Promise<Credentials> {
    const row = await readTokenRow(connectionId);
    if (row.refreshTokenCiphertext !== usedCiphertext) {
      deps.logger.info({ connectionId }, "the refresh token was rotated elsewhere; using the stored token");
      return storedCredentials(connectionId, row);
    }
    await markNeedsReauth(deps, connectionId, `Stripe refused the refresh token: ${error.description}`);
    throw new NeedsReauthError(`connection ${connectionId} needs to be reconnected (${error.description})`);
  }

  /** The connection's grant and its org's platform key, in one statement (every Stripe call reads it). */
  async function readCallRow(connectionId: string): Promise<CallRow | null> {
    const rows = await deps.db.sql<CallRow>(
      `SELECT c."orgId", c."method", c."stripeAccountId", c."accessTokenCiphertext", c."accessTokenExpiresAt",
              k."secretKeyCiphertext"
         FROM "StripeConnection" c LEFT JOIN "StripeConfig" k ON k."orgId" = c."orgId"
        WHERE c."id" = $1`,
      [connectionId],
    );
    return rows[0] ?? null;
  }

  function readTokenRow(connectionId: string): Promise<TokenRow> {
    return deps.db.prisma.stripeConnection.findUniqueOrThrow({
      where: { id: connectionId },
      select: { accessTokenCiphertext: true, refreshTokenCiphertext: true, accessTokenExpiresAt: true },
    });
  }

  function storedCredentials(
    connectionId: string,
    row: Pick<TokenRow, "accessTokenCiphertext">,
  ): Credentials {
    if (!row.accessTokenCiphertext) {
      throw new NeedsReauthError(`connection ${connectionId} has no Stripe authorization`);
    }
    return { apiKey: openToken(deps.secrets, connectionId, "accessToken", row.accessTokenCiphertext) };
  }

  return { credentials };
}

/** The kind of a failure, never its message: Prisma's can quote the values written. */
function describeError(error: unknown): { name: string; code?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    name: error instanceof Error ? error.name : typeof error,
    ...(typeof code === "string" ? { code } : {}),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isExpiring(deps: { clock: Clock }, row: Pick<StripeConnection, "accessTokenExpiresAt">): boolean {
  return (
    row.accessTokenExpiresAt !== null &&
    row.accessTokenExpiresAt.getTime() - deps.clock.now().getTime() < REFRESH_MARGIN_MS
  );
}
