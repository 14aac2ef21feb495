import { encodeGlobalID } from "@pothos/plugin-relay";
import type { Context as HonoContext } from "hono";
import type { Deps } from "../deps.ts";
import { completeAuthorization } from "../stripe/oauth-callback.ts";
import { renderPage } from "./html-page.ts";

// The URL carries a one-time code: keep it out of caches and out of the next site's Referer.
const PRIVATE_HEADERS = { "cache-control": "no-store", "referrer-policy": "no-referrer" };

/** GET /stripe/proxy/:orgId/redirect — where Stripe sends the merchant's browser after OAuth. */
export function createOAuthRedirectHandler(deps: Deps) {
  return async (c: HonoContext) => {
    const query = (name: string) => c.req.query(name) || undefined;
    const outcome = await completeAuthorization(
      deps,
      c.req.param("orgId") ?? "",
      {
        code: query("code"),
        state: query("state"),
        error: query("error"),
        errorDescription: query("error_description"),
      },
      (connectionId) => encodeGlobalID("StripeConnection", connectionId),
    );
    if (outcome.kind === "redirect") {
      return new Response(null, { status: 302, headers: { ...PRIVATE_HEADERS, location: outcome.url } });
    }
    return new Response(renderPage(outcome.title, outcome.message), {
      status: outcome.status,
      headers: { ...PRIVATE_HEADERS, "content-type": "text/html; charset=utf-8" },
    });
  };
}
