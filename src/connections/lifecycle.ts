// A connection's lifecycle as the org's frontend drives it: start (and reconnect), resync, disconnect.
// The OAuth redirect that completes a start is callback.ts.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { NotFoundError, StripeNotConfiguredError, ValidationError } from "../errors.ts";
import type { Org, Prisma, StripeConnection } from "../generated/prisma/client.ts";
import { connectionMetadata } from "../orgs/access-tokens.ts";
import { sha256 } from "../orgs/api-keys.ts";
import { orgRedirectUri } from "../orgs/orgs.ts";
import type { SecretBox } from "../orgs/secrets.ts";
import { openSecretKey } from "../orgs/stripe-config.ts";
import {
  authorizationUrl,
  deauthorize,
  type HttpFetch,
  StripeOAuthError,
  StripeUnavailableError,
} from "../stripe/oauth.ts";
import { publishConnection, type StatusDeps, updateConnection } from "./status.ts";
import { NO_TOKENS } from "./tokens.ts";

/** How long a connect link works; a PENDING connection nobody came back to then expires (status.ts). */
export const STATE_LIFETIME_MS = 10 * 60 * 1000;

/**
 * What connections/ asks of the sync scheduler: to start syncing a connection in the background. Declared
 * here so that connections/ never imports sync/ (sync/ depends on connections/, not the reverse).
 */
export type SyncStarter = { start(connectionId: string, options?: { fresh?: boolean }): void };

export type StartConnectionDeps = StatusDeps & {
  config: Pick<Config, "publicUrl" | "stripe">;
  clock: Clock;
};

export type DisconnectDeps = StatusDeps & {
  config: Pick<Config, "stripe">;
  clock: Clock;
  secrets: SecretBox;
  /** HTTP client for Stripe's OAuth endpoints */
  fetch: HttpFetch;
};

export type ResyncDeps = StatusDeps & { sync: SyncStarter };

export type StartConnectionInput = {
  returnUrl?: string | null;
  metadata?: unknown;
  reconnectConnectionId?: string | null;
};

const startInput = z.object({
  returnUrl: z
    .string()
    .trim()
    .refine((value) => /^https?:$/.test(URL.parse(value)?.protocol ?? ""), "must be an absolute http(s) URL")
    .nullish(),
  metadata: connectionMetadata.nullish(),
});

export function newConnectionId(): string {
  return `conn_${randomBytes(12).toString("hex")}`;
}

/**
 * Creates (or, with reconnectConnectionId, reuses) a PENDING connection and a single-use `state`, and
 * returns the Stripe URL to send the merchant's browser to.
 */
export async function startConnection(deps: StartConnectionDeps, org: Org, input: StartConnectionInput) {
  const { prisma } = deps.db;
  const config = await prisma.stripeConfig.findUnique({ where: { orgId: org.id } });
  if (!config) throw new StripeNotConfiguredError();
  const parsed = startInput.safeParse({ returnUrl: input.returnUrl, metadata: input.metadata });
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((issue) => ({
        path: ["input", String(issue.path[0])],
        message: issue.message,
      })),
    );
  }
  const returnUrl = parsed.data.returnUrl ?? null;
  const now = deps.clock.now();
  const state = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + STATE_LIFETIME_MS);

  const connection = await prisma.$transaction(async (tx) => {
    let target: StripeConnection;
    if (input.reconnectConnectionId) {
      const existing = await tx.stripeConnection.findFirst({
        where: { id: input.reconnectConnectionId, orgId: org.id },
      });
      if (!existing) throw new NotFoundError("No such connection in this org.");
      target = await tx.stripeConnection.update({
        where: { id: existing.id },
        data: {
          // An expired attempt is pending again, with a new link.
          ...(existing.status === "EXPIRED"
            ? { status: "PENDING", lastError: null, lastErrorCode: null }
            : {}),
          method: config.connectMethod,
          ...(parsed.data.metadata != null
            ? { metadata: parsed.data.metadata as Prisma.InputJsonObject }
            : {}),
          returnUrl,
        },
      });
    } else {
      target = await tx.stripeConnection.create({
        data: {
          id: newConnectionId(),
          orgId: org.id,
          method: config.connectMethod,
          metadata: (parsed.data.metadata ?? undefined) as Prisma.InputJsonObject | undefined,
          returnUrl,
        },
      });
    }
    await tx.oAuthState.create({
      data: { stateHash: sha256(state), orgId: org.id, connectionId: target.id, returnUrl, expiresAt },
    });
    // States nobody came back with: kept an hour past expiry so a late return still reads "expired".
    await tx.oAuthState.deleteMany({
      where: { expiresAt: { lt: new Date(now.getTime() - 60 * 60 * 1000) } },
    });
    return target;
  });
  if (input.reconnectConnectionId) publishConnection(deps, connection);

  const url = authorizationUrl({
    method: config.connectMethod,
    clientId: config.clientId,
    customAuthorizationUrl: config.customAuthorizationUrl,
    endpoints: deps.config.stripe,
    redirectUri: orgRedirectUri(deps.config.publicUrl, org.id),
    state,
  });
  return { connection, authorizationUrl: url, expiresAt };
}

export async function findConnection(
  deps: { db: Pick<Database, "prisma"> },
  orgId: string,
  connectionId: string,
): Promise<StripeConnection> {
  const connection = await deps.db.prisma.stripeConnection.findFirst({ where: { id: connectionId, orgId } });
  if (!connection) throw new NotFoundError("No such connection in this org.");
  return connection;
}

/**
 * Ends a connection. Legacy Connect: revoked at Stripe (deauthorize). Stripe Apps: Stripe documents no
 * developer-side revoke, so the tokens are dropped and the grant lives on until the merchant uninstalls.
 */
export async function disconnectConnection(deps: DisconnectDeps, orgId: string, connectionId: string) {
  const connection = await findConnection(deps, orgId, connectionId);
  if (connection.status === "DISCONNECTED") return connection;
  let lastError: string | null = null;
  if (
    connection.method === "LEGACY_CONNECT" &&
    connection.stripeAccountId &&
    connection.accessTokenCiphertext
  ) {
    const config = await deps.db.prisma.stripeConfig.findUnique({ where: { orgId } });
    if (config) {
      try {
        await deauthorize(
          deps.fetch,
          deps.config.stripe,
          openSecretKey(deps.secrets, config),
          config.clientId,
          connection.stripeAccountId,
        );
      } catch (error) {
        // Already revoked at Stripe (invalid_client / invalid_request) is the outcome we want anyway.
        if (error instanceof StripeUnavailableError)
          lastError = `Could not deauthorize at Stripe: ${error.message}`;
        else if (!(error instanceof StripeOAuthError)) throw error;
      }
    }
  }
  return updateConnection(deps, connection.id, {
    ...NO_TOKENS,
    status: "DISCONNECTED",
    disconnectedAt: deps.clock.now(),
    lastError,
    lastErrorCode: lastError ? "STRIPE_UNAVAILABLE" : null,
    nextSyncAt: null,
  });
}

/** Starts a fresh sync of a connection that holds a working authorization. */
export async function resyncConnection(deps: ResyncDeps, orgId: string, connectionId: string) {
  const connection = await findConnection(deps, orgId, connectionId);
  if (!connection.accessTokenCiphertext || connection.status === "DISCONNECTED") return connection;
  const syncing = await updateConnection(deps, connection.id, {
    status: "SYNCING",
    syncFailures: 0,
    nextSyncAt: null,
  });
  deps.sync.start(connection.id, { fresh: true });
  return syncing;
}
