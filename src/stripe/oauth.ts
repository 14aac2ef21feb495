// Stripe's OAuth endpoints: Stripe Apps (marketplace authorize, POST /v1/oauth/token on the API host) and
// legacy Connect (connect.stripe.com authorize, token and deauthorize). PROTOCOL.md §1–2.
import type { Config } from "../config.ts";
import type { StripeConnectMethod } from "../generated/prisma/enums.ts";
import { withRetry } from "./retry.ts";

export type StripeEndpoints = Config["stripe"];
export type HttpFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

export type OAuthTokens = {
  accessToken: string;
  /** Stripe Apps rotate it on every refresh; legacy Connect tokens never need it */
  refreshToken: string | null;
  stripeAccountId: string;
  livemode: boolean;
  scope: string | null;
};

/** Stripe answered with an OAuth error (`invalid_grant`, `invalid_client`, …). */
export class StripeOAuthError extends Error {
  override name = "StripeOAuthError";
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status: number,
  ) {
    super(`${code}: ${description}`);
  }
}

/** Stripe could not be reached, or its answer was lost or unusable (a 5xx, a timeout, a dropped connection). */
export class StripeUnavailableError extends Error {
  override name = "StripeUnavailableError";
}

const ATTEMPTS = 3;
const TIMEOUT_MS = 15_000;

export function authorizationUrl(input: {
  method: StripeConnectMethod;
  clientId: string;
  customAuthorizationUrl: string | null;
  endpoints: StripeEndpoints;
  redirectUri: string;
  state: string;
}): string {
  const url =
    input.method === "LEGACY_CONNECT"
      ? new URL(`${input.endpoints.connectUrl}/oauth/authorize`)
      : new URL(input.customAuthorizationUrl ?? `${input.endpoints.marketplaceUrl}/oauth/v2/authorize`);
  if (input.method === "LEGACY_CONNECT") url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", input.clientId);
  // Extensions may only ask for read_only; the gateway never writes to a connected account.
  if (input.method === "LEGACY_CONNECT") url.searchParams.set("scope", "read_only");
  url.searchParams.set("redirect_uri", input.redirectUri);
  url.searchParams.set("state", input.state);
  return url.toString();
}

function tokenUrl(method: StripeConnectMethod, endpoints: StripeEndpoints): string {
  // Stripe Apps exchange on the API host; an App code sent to connect.stripe.com fails.
  return method === "LEGACY_CONNECT"
    ? `${endpoints.connectUrl}/oauth/token`
    : `${endpoints.apiUrl}/v1/oauth/token`;
}

/**
 * Trades an authorization code for tokens. A code works once (legacy Connect revokes the grant when it
 * is used twice), so it is sent again only when the first request certainly never reached Stripe.
 */
export async function exchangeCode(
  http: HttpFetch,
  endpoints: StripeEndpoints,
  method: StripeConnectMethod,
  secretKey: string,
  code: string,
): Promise<OAuthTokens> {
  const body = await postForm(
    http,
    tokenUrl(method, endpoints),
    secretKey,
    { grant_type: "authorization_code", code },
    { resend: "if-unsent" },
  );
  return readTokens(body);
}

/**
 * Stripe Apps only: trades the refresh token for a new access token and a new refresh token. Stripe
 * rotates the refresh token as it answers, so, like a code, it is sent again only if it never left.
 */
export async function refreshTokens(
  http: HttpFetch,
  endpoints: StripeEndpoints,
  secretKey: string,
  refreshToken: string,
  options: { timeoutMs: number },
): Promise<OAuthTokens> {
  const body = await postForm(
    http,
    tokenUrl("STRIPE_APP", endpoints),
    secretKey,
    { grant_type: "refresh_token", refresh_token: refreshToken },
    { resend: "if-unsent", timeoutMs: options.timeoutMs },
  );
  return readTokens(body);
}

/** Legacy Connect only: revokes the platform's access to the account. */
export async function deauthorize(
  http: HttpFetch,
  endpoints: StripeEndpoints,
  secretKey: string,
  clientId: string,
  stripeAccountId: string,
): Promise<void> {
  // Revoking twice leaves the same result, so any failure may be retried.
  await postForm(
    http,
    `${endpoints.connectUrl}/oauth/deauthorize`,
    secretKey,
    { client_id: clientId, stripe_user_id: stripeAccountId },
    { resend: "always" },
  );
}

function readTokens(body: Record<string, unknown>): OAuthTokens {
  const accessToken = body.access_token;
  // Some refresh responses are reported to carry account_id instead of stripe_user_id.
  const account = body.stripe_user_id ?? body.account_id;
  if (typeof accessToken !== "string" || typeof account !== "string") {
    throw new StripeOAuthError(
      "invalid_response",
      "Stripe's token response lacks access_token or stripe_user_id",
      502,
    );
  }
  return {
    accessToken,
    refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : null,
    stripeAccountId: account,
    livemode: body.livemode === true,
    scope: typeof body.scope === "string" ? body.scope : null,
  };
}

/**
 * "always": any failure may be sent again. "if-unsent": only when Stripe certainly did not process the
 * request — the connection was never made, or Stripe answered 429; a timeout, a dropped connection, a
 * 5xx or an unreadable answer may hide a processed request, and fail at once.
 */
type PostOptions = { resend: "always" | "if-unsent"; timeoutMs?: number };

type Attempt =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; problem: string; unprocessed: boolean };

/** A request Stripe did not answer usably; `unprocessed` when it certainly never acted on it. */
class Unanswered extends Error {
  constructor(
    readonly problem: string,
    readonly unprocessed: boolean,
  ) {
    super(problem);
  }
}

async function postForm(
  http: HttpFetch,
  url: string,
  secretKey: string,
  params: Record<string, string>,
  options: PostOptions,
): Promise<Record<string, unknown>> {
  try {
    return await withRetry(
      async () => {
        const result = await sendForm(http, url, secretKey, params, options.timeoutMs ?? TIMEOUT_MS);
        if (!result.ok) throw new Unanswered(result.problem, result.unprocessed);
        return result.body;
      },
      {
        attempts: ATTEMPTS,
        firstDelayMs: 250,
        maxDelayMs: 2_000,
        // Stripe's OAuth errors (4xx) are answers, never sent again.
        retryable: (error) =>
          error instanceof Unanswered && (options.resend === "always" || error.unprocessed),
      },
    );
  } catch (error) {
    if (!(error instanceof Unanswered)) throw error;
    throw new StripeUnavailableError(`Stripe did not answer ${new URL(url).pathname} (${error.problem})`);
  }
}

async function sendForm(
  http: HttpFetch,
  url: string,
  secretKey: string,
  params: Record<string, string>,
  timeoutMs: number,
): Promise<Attempt> {
  let response: Response;
  try {
    response = await http(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${secretKey}`,
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    return { ok: false, problem, unprocessed: neverConnected(error) };
  }
  if (response.status === 429) {
    await response.body?.cancel().catch(() => {});
    return { ok: false, problem: "HTTP 429", unprocessed: true };
  }
  const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
  if (response.status >= 500 || body === null) {
    return { ok: false, problem: `HTTP ${response.status}`, unprocessed: false };
  }
  if (!response.ok) throw oauthError(response.status, body);
  return { ok: true, body };
}

/** Failures before a connection exists: no byte of the request was sent. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

function neverConnected(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  // Node reports a refused connection to every address of a host as an AggregateError.
  const causes = cause instanceof AggregateError ? [cause, ...cause.errors] : [cause];
  return causes.some((item) => {
    const code = (item as { code?: unknown } | undefined)?.code;
    return typeof code === "string" && NOT_CONNECTED.has(code);
  });
}

function oauthError(status: number, body: Record<string, unknown>): StripeOAuthError {
  // OAuth endpoints answer {error, error_description}; API-style errors nest {error: {code, message}}.
  if (typeof body.error === "string") {
    return new StripeOAuthError(body.error, String(body.error_description ?? body.error), status);
  }
  const nested = (body.error ?? {}) as { code?: string; type?: string; message?: string };
  return new StripeOAuthError(nested.code ?? nested.type ?? "invalid_request", nested.message ?? "", status);
}
