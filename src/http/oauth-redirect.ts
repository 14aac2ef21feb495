import type { Context as HonoContext } from "hono";
import { type AuthorizationResult, completeAuthorization } from "../connections/callback.ts";
import type { Deps } from "../deps.ts";
import { renderPage } from "./html-page.ts";
import { limitOrgRoute } from "./rate-limit.ts";

// The URL carries a one-time code: keep it out of caches and out of the next site's Referer.
const PRIVATE_HEADERS = { "cache-control": "no-store", "referrer-policy": "no-referrer" };

export type OAuthRedirectOptions = {
  /** The connection's id as the app knows it (its public GraphQL id), for the return URL. */
  publicConnectionId(connectionId: string): string;
};

/** GET /stripe/proxy/:orgId/redirect — where Stripe sends the merchant's browser after OAuth. */
export function createOAuthRedirectHandler(deps: Deps, options: OAuthRedirectOptions) {
  return async (c: HonoContext) => {
    const orgId = c.req.param("orgId") ?? "";
    // Before the org is read or the code redeemed: nothing is used up, so the same URL works once allowed.
    const retryAfter = await limitOrgRoute(deps, "oauthRedirect", orgId);
    if (retryAfter !== null) {
      return page(
        429,
        "Too many requests",
        `Too many Stripe connections are completing right now. Reload this page in ${retryAfter} s.`,
        { "retry-after": String(retryAfter) },
      );
    }
    const query = (name: string) => c.req.query(name) || undefined;
    const result = await completeAuthorization(deps, orgId, {
      code: query("code"),
      state: query("state"),
      error: query("error"),
      errorDescription: query("error_description"),
    });
    return respond(result, options);
  };
}

/** Back to the app's return URL when there is one; otherwise a page of ours. */
function respond(result: AuthorizationResult, options: OAuthRedirectOptions): Response {
  switch (result.kind) {
    case "refused":
      return result.problem === "ORG_NOT_FOUND"
        ? page(404, "Unknown organisation", "This connect link does not belong to any organisation.")
        : page(400, "Stripe is not set up", "This organisation has not configured Stripe yet.");
    case "failed":
      if (result.returnUrl) {
        return redirect(result.returnUrl, {
          status: "error",
          error: result.code,
          ...(result.connectionId ? { connection_id: options.publicConnectionId(result.connectionId) } : {}),
        });
      }
      return page(result.stripeUnavailable ? 502 : 400, "Stripe connection failed", result.message);
    case "connected":
      if (result.returnUrl) {
        return redirect(result.returnUrl, {
          connection_id: options.publicConnectionId(result.connectionId),
          status: "success",
        });
      }
      return page(
        200,
        "Stripe account connected",
        `Your Stripe account ${result.stripeAccountId} is now connected. You can close this window.`,
      );
  }
}

function redirect(base: string, params: Record<string, string>): Response {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return new Response(null, { status: 302, headers: { ...PRIVATE_HEADERS, location: url.toString() } });
}

function page(
  status: 200 | 400 | 404 | 429 | 502,
  title: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(renderPage(title, message), {
    status,
    headers: { ...PRIVATE_HEADERS, "content-type": "text/html; charset=utf-8", ...headers },
  });
}
