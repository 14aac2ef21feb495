import type { Hono } from "hono";
import { authorizeErrorPage, beginAuthorization, resolveClient } from "./oauth-authorize.ts";
import { exchangeToken } from "./oauth-tokens.ts";
import type { EmulatorEnv, EmulatorState } from "./state.ts";

/** Stripe Apps OAuth: marketplace authorize links and `POST /v1/oauth/token` on the API host. */
export function registerAppsOAuth(app: Hono<EmulatorEnv>, state: EmulatorState): void {
  // `link` is the external-test form `/oauth/v2/chnlink_…/authorize`; the published form has none.
  const authorize = (link: string | undefined, query: URLSearchParams): Response => {
    const client = resolveClient(
      state,
      query.get("client_id") ?? undefined,
      query.get("redirect_uri") ?? undefined,
    );
    if (!client.ok) return authorizeErrorPage(client.message);
    if (link !== undefined && !client.platform.oauthLinks.includes(link))
      return authorizeErrorPage("The provided OAuth link is invalid");
    return beginAuthorization(state, {
      flow: "apps",
      platform: client.platform,
      mode: client.mode,
      redirectUri: client.redirectUri,
      state: query.get("state") ?? undefined,
      scope: "stripe_apps",
    });
  };
  app.get("/oauth/v2/authorize", (c) => authorize(undefined, new URL(c.req.url).searchParams));
  app.get("/oauth/v2/:link/authorize", (c) =>
    authorize(c.req.param("link"), new URL(c.req.url).searchParams),
  );
  app.post("/v1/oauth/token", (c) => exchangeToken(state, c.req.raw, "apps"));
}
