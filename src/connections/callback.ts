import { withChanges } from "../feed/change-log.ts";
import type { OAuthState } from "../generated/prisma/client.ts";
import { sha256 } from "../orgs/api-keys.ts";
import { openSecretKey } from "../orgs/stripe-config.ts";
import { exchangeCode, type OAuthTokens, StripeOAuthError, StripeUnavailableError } from "../stripe/oauth.ts";
import type { CredentialsDeps } from "./credentials.ts";
import { newConnectionId, type SyncStarter } from "./lifecycle.ts";
import { publishConnection, recordConnectionChange, updateConnection } from "./status.ts";
import { tokenColumns } from "./tokens.ts";

/** What Stripe put on the redirect back to us. */
export type CallbackParams = {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
};

/**
 * How an authorization ended. `returnUrl` is where the app wants the browser back (the connection's, or
 * the org's default), null when there is none.
 */
export type AuthorizationResult =
  | { kind: "connected"; connectionId: string; stripeAccountId: string; returnUrl: string | null }
  | {
      kind: "failed";
      /** An OAuth error code: Stripe's (`access_denied`, `invalid_grant`, …) or ours (`invalid_state`, …) */
      code: string;
      /** For the merchant; also recorded as the connection's lastError */
      message: string;
      /** Stripe could not be reached: the same link may work in a moment */
      stripeUnavailable: boolean;
      /** The connection the state was issued for; null when the state was missing or unknown */
      connectionId: string | null;
      returnUrl: string | null;
    }
  /** Nothing to return to: the link names no org, or one without Stripe configured. */
  | { kind: "refused"; problem: "ORG_NOT_FOUND" | "STRIPE_NOT_CONFIGURED" };

/** What the token exchange needs (as a refresh does), and the scheduler to start the first sync. */
export type CallbackDeps = CredentialsDeps & { sync: SyncStarter };

type Pending = Pick<OAuthState, "connectionId" | "returnUrl">;

/**
 * Handles Stripe's OAuth redirect for an org: consumes the state, exchanges the code, stores the tokens
 * and starts the first sync. A state that is unknown, used, expired or another org's never gets as far
 * as Stripe's token endpoint; nothing is stored unless the exchange succeeded.
 */
export async function completeAuthorization(
  deps: CallbackDeps,
  orgId: string,
  params: CallbackParams,
): Promise<AuthorizationResult> {
  const { prisma } = deps.db;
  const org = await prisma.org.findUnique({ where: { id: orgId }, include: { stripeConfig: true } });
  if (!org) return { kind: "refused", problem: "ORG_NOT_FOUND" };
  const config = org.stripeConfig;
  if (!config) return { kind: "refused", problem: "STRIPE_NOT_CONFIGURED" };

  const fail = async (
    pending: Pending | null,
    code: string,
    message: string,
    stripeUnavailable = false,
  ): Promise<AuthorizationResult> => {
    if (pending) await updateConnection(deps, pending.connectionId, { lastError: `${code}: ${message}` });
    return {
      kind: "failed",
      code,
      message,
      stripeUnavailable,
      connectionId: pending?.connectionId ?? null,
      returnUrl: pending ? (pending.returnUrl ?? config.defaultReturnUrl) : null,
    };
  };

  let pending: Pending | null = null;
  if (params.state) {
    // Deleting is the read: a state works once, and only for the org it was issued to.
    const consumed = await prisma.oAuthState
      .delete({ where: { stateHash: sha256(params.state), orgId } })
      .catch(() => null);
    if (!consumed)
      return fail(
        null,
        "invalid_state",
        "This connect link is invalid or was already used. Start again from the app.",
      );
    pending = consumed;
    if (consumed.expiresAt.getTime() < deps.clock.now().getTime()) {
      return fail(pending, "expired_state", "This connect link has expired. Start again from the app.");
    }
  } else if (params.error || config.connectMethod === "LEGACY_CONNECT") {
    // Only a Stripe App installed from the Marketplace comes back without our state, and with a code.
    return fail(
      null,
      params.error ?? "invalid_state",
      params.errorDescription ?? "The redirect from Stripe carried no state.",
    );
  }
  if (params.error)
    return fail(pending, params.error, params.errorDescription ?? "Stripe reported an error.");
  if (!params.code)
    return fail(pending, "invalid_request", "The redirect from Stripe carried no authorization code.");

  let tokens: OAuthTokens;
  try {
    tokens = await exchangeCode(
      deps.fetch,
      deps.config.stripe,
      config.connectMethod,
      openSecretKey(deps.secrets, config),
      params.code,
    );
  } catch (error) {
    if (error instanceof StripeOAuthError) return fail(pending, error.code, error.description);
    if (error instanceof StripeUnavailableError) {
      deps.logger.warn({ orgId, err: error }, "Stripe token endpoint unavailable");
      return fail(
        pending,
        "stripe_unavailable",
        "Stripe could not be reached. Please try again in a moment.",
        true,
      );
    }
    throw error;
  }

  const connection = await storeGrant(deps, orgId, config.connectMethod, pending, tokens);
  publishConnection(deps, connection);
  deps.sync.start(connection.id);
  return {
    kind: "connected",
    connectionId: connection.id,
    stripeAccountId: tokens.stripeAccountId,
    returnUrl: pending?.returnUrl ?? config.defaultReturnUrl,
  };
}

/** The same Stripe account connected twice to one org keeps its one connection. */
async function storeGrant(
  deps: CallbackDeps,
  orgId: string,
  method: "STRIPE_APP" | "LEGACY_CONNECT",
  pending: Pending | null,
  tokens: OAuthTokens,
) {
  const now = deps.clock.now();
  const { result } = await withChanges(deps, [orgId], async (tx, changes) => {
    const existing = await tx.stripeConnection.findUnique({
      where: {
        orgId_stripeAccountId_livemode: {
          orgId,
          stripeAccountId: tokens.stripeAccountId,
          livemode: tokens.livemode,
        },
      },
    });
    let id = existing?.id ?? pending?.connectionId ?? null;
    if (existing && pending && pending.connectionId !== existing.id) {
      // A fresh PENDING attempt that turned out to be an account we already have: fold it in.
      const attempt = await tx.stripeConnection.findUnique({ where: { id: pending.connectionId } });
      if (
        attempt &&
        (attempt.status === "PENDING" || attempt.status === "EXPIRED") &&
        !attempt.stripeAccountId
      ) {
        await tx.stripeConnection.delete({ where: { id: attempt.id } });
        if (attempt.metadata !== null && existing.metadata === null) {
          await tx.stripeConnection.update({
            where: { id: existing.id },
            data: { metadata: attempt.metadata },
          });
        }
      }
    }
    if (!id) {
      id = newConnectionId();
      await tx.stripeConnection.create({ data: { id, orgId, method } });
    }
    const connected = await tx.stripeConnection.update({
      where: { id },
      data: {
        ...tokenColumns(deps, id, tokens),
        method,
        stripeAccountId: tokens.stripeAccountId,
        livemode: tokens.livemode,
        status: "SYNCING",
        connectedAt: existing?.connectedAt ?? now,
        disconnectedAt: null,
        lastError: null,
        lastErrorCode: null,
        // A new grant starts its sync now, whatever the old one's failures were.
        syncFailures: 0,
        nextSyncAt: null,
      },
    });
    // A grant is a connection's start, whatever its status was (a re-grant of a READY account too).
    recordConnectionChange(changes, connected, "connection.connected");
    return connected;
  });
  return result;
}
