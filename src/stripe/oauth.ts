// Stripe's OAuth endpoints: Stripe Apps (marketplace authorize, POST /v1/oauth/token on the API host) and
// legacy Connect (connect.stripe.com authorize, token and deauthorize). PROTOCOL.md §1–2.
import type { Config } from "../config.ts";
import type { StripeConnectMethod } from "../generated/prisma/enums.ts";

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

/** Stripe could not be reached, or kept answering 5xx. */
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

export function tokenUrl(method: StripeConnectMethod, endpoints: StripeEndpoints): string {
  // Stripe Apps exchange on the API host; an App code sent to connect.stripe.com fails.
  return method === "LEGACY_CONNECT"
    ? `${endpoints.connectUrl}/oauth/token`
    : `${endpoints.apiUrl}/v1/oauth/token`;
}

export async function exchangeCode(
  http: HttpFetch,
  endpoints: StripeEndpoints,
  method: StripeConnectMethod,
  secretKey: string,
  code: string,
): Promise<OAuthTokens> {
  const body = await postForm(http, tokenUrl(method, endpoints), secretKey, {
    grant_type: "authorization_code",
    code,
  });
  return readTokens(body);
}

/** Stripe Apps only: trades the refresh token for a new access token and a new refresh token. */
export async function refreshTokens(
  http: HttpFetch,
  endpoints: StripeEndpoints,
  secretKey: string,
  refreshToken: string,
): Promise<OAuthTokens> {
  const body = await postForm(http, tokenUrl("STRIPE_APP", endpoints), secretKey, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
  });
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
  await postForm(http, `${endpoints.connectUrl}/oauth/deauthorize`, secretKey, {
    client_id: clientId,
    stripe_user_id: stripeAccountId,
  });
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

async function postForm(
  http: HttpFetch,
  url: string,
  secretKey: string,
  params: Record<string, string>,
): Promise<Record<string, unknown>> {
  let lastProblem = "";
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (attempt > 1) await sleep(250 * 2 ** (attempt - 2) * (0.5 + Math.random()));
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
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
      continue;
    }
    const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    if (response.status >= 500 || body === null) {
      lastProblem = `HTTP ${response.status}`;
      continue;
    }
    if (!response.ok) throw oauthError(response.status, body);
    return body;
  }
  throw new StripeUnavailableError(`Stripe did not answer ${new URL(url).pathname} (${lastProblem})`);
}

function oauthError(status: number, body: Record<string, unknown>): StripeOAuthError {
  // OAuth endpoints answer {error, error_description}; API-style errors nest {error: {code, message}}.
  if (typeof body.error === "string") {
    return new StripeOAuthError(body.error, String(body.error_description ?? body.error), status);
  }
  const nested = (body.error ?? {}) as { code?: string; type?: string; message?: string };
  return new StripeOAuthError(nested.code ?? nested.type ?? "invalid_request", nested.message ?? "", status);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
