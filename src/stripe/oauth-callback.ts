import type { Deps } from "../deps.ts";
import type { OAuthState } from "../generated/prisma/client.ts";
import { sha256 } from "../orgs/api-keys.ts";
import { openSecretKey } from "../orgs/stripe-config.ts";
import { publishConnection, updateConnection } from "./connection-status.ts";
import { newConnectionId } from "./connections.ts";
import { exchangeCode, type OAuthTokens, StripeOAuthError, StripeUnavailableError } from "./oauth.ts";
import { tokenColumns } from "./tokens.ts";

/** What Stripe put on the redirect back to us. */
export type CallbackParams = {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
};

/** Where the browser goes next: back to the app, or a page of ours when there is nowhere to go. */
export type CallbackOutcome =
  | { kind: "redirect"; url: string; connectionId: string | null }
  | {
      kind: "page";
      status: 200 | 400 | 404 | 502;
      title: string;
      message: string;
      connectionId: string | null;
    };

type Pending = Pick<OAuthState, "connectionId" | "returnUrl">;

/**
 * Handles Stripe's OAuth redirect for an org: consumes the state, exchanges the code, stores the tokens
 * and starts the first sync. A state that is unknown, used, expired or another org's never gets as far
 * as Stripe's token endpoint; nothing is stored unless the exchange succeeded.
 */
export async function completeAuthorization(
  deps: Deps,
  orgId: string,
  params: CallbackParams,
  connectionUrlId: (connectionId: string) => string,
): Promise<CallbackOutcome> {
  const { prisma } = deps.db;
  const org = await prisma.org.findUnique({ where: { id: orgId }, include: { stripeConfig: true } });
  if (!org)
    return page(404, "Unknown organisation", "This connect link does not belong to any organisation.");
  const config = org.stripeConfig;
  if (!config) return page(400, "Stripe is not set up", "This organisation has not configured Stripe yet.");

  const fail = async (pending: Pending | null, code: string, message: string, status: 400 | 502 = 400) => {
    if (pending) await updateConnection(deps, pending.connectionId, { lastError: `${code}: ${message}` });
    const returnUrl = pending ? (pending.returnUrl ?? config.defaultReturnUrl) : null;
    const connectionId = pending ? connectionUrlId(pending.connectionId) : null;
    if (returnUrl) {
      return redirect(
        returnUrl,
        { status: "error", error: code, ...(connectionId ? { connection_id: connectionId } : {}) },
        pending?.connectionId ?? null,
      );
    }
    return page(status, "Stripe connection failed", message, pending?.connectionId ?? null);
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
        502,
      );
    }
    throw error;
  }

  const connection = await storeGrant(deps, orgId, config.connectMethod, pending, tokens);
  publishConnection(deps, connection);
  deps.sync.start(connection.id);
  const returnUrl = pending?.returnUrl ?? config.defaultReturnUrl;
  const id = connectionUrlId(connection.id);
  if (returnUrl) return redirect(returnUrl, { connection_id: id, status: "success" }, connection.id);
  return page(
    200,
    "Stripe account connected",
    `Your Stripe account ${tokens.stripeAccountId} is now connected. You can close this window.`,
    connection.id,
  );
}

/** The same Stripe account connected twice to one org keeps its one connection. */
async function storeGrant(
  deps: Deps,
  orgId: string,
  method: "STRIPE_APP" | "LEGACY_CONNECT",
  pending: Pending | null,
  tokens: OAuthTokens,
) {
  const now = deps.clock.now();
  return deps.db.prisma.$transaction(async (tx) => {
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
      if (attempt && attempt.status === "PENDING" && !attempt.stripeAccountId) {
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
    return tx.stripeConnection.update({
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
  });
}

function redirect(
  base: string,
  params: Record<string, string>,
  connectionId: string | null,
): CallbackOutcome {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return { kind: "redirect", url: url.toString(), connectionId };
}

function page(
  status: 200 | 400 | 404 | 502,
  title: string,
  message: string,
  connectionId: string | null = null,
): CallbackOutcome {
  return { kind: "page", status, title, message, connectionId };
}
