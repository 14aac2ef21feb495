import type { Hono } from "hono";
import { oauthError } from "./api-errors.ts";
import { readCredential } from "./auth.ts";
import { uninstallApp } from "./mutations-payouts.ts";
import {
  type AuthorizeRequest,
  authorizeErrorPage,
  beginAuthorization,
  completeAuthorization,
  resolveClient,
} from "./oauth-authorize.ts";
import { exchangeToken, requireSecretKey } from "./oauth-tokens.ts";
import { readFormParams, stringParam } from "./params.ts";
import type { EmulatorEnv, EmulatorState } from "./state.ts";
import { connectionKey } from "./store.ts";

const SCOPES = ["read_only", "read_write"];

/** Legacy Connect OAuth (connect.stripe.com): authorize, token, deauthorize, and the consent form. */
export function registerConnectOAuth(app: Hono<EmulatorEnv>, state: EmulatorState): void {
  app.get("/oauth/authorize", (c) => {
    const query = new URL(c.req.url).searchParams;
    // Stripe answers these as JSON rather than redirecting.
    if (query.get("response_type") !== "code")
      return c.json(
        { error: "unsupported_response_type", error_description: "Only 'code' response_type is supported" },
        400,
      );
    const client = resolveClient(
      state,
      query.get("client_id") ?? undefined,
      query.get("redirect_uri") ?? undefined,
    );
    if (!client.ok) return c.json({ error: client.error, error_description: client.message }, 400);
    const scope = query.get("scope") ?? "read_only";
    if (!SCOPES.includes(scope))
      return c.json({ error: "invalid_scope", error_description: `Invalid scope: ${scope}` }, 400);
    const request: AuthorizeRequest = {
      flow: "connect",
      platform: client.platform,
      mode: client.mode,
      redirectUri: client.redirectUri,
      state: query.get("state") ?? undefined,
      scope,
    };
    return beginAuthorization(state, request);
  });

  app.post("/oauth/consent", async (c) => {
    const form = await readFormParams(c.req.raw);
    const client = resolveClient(state, stringParam(form, "client_id"), stringParam(form, "redirect_uri"));
    if (!client.ok) return authorizeErrorPage(client.message);
    const flow = stringParam(form, "flow") === "connect" ? "connect" : "apps";
    const request: AuthorizeRequest = {
      flow,
      platform: client.platform,
      mode: client.mode,
      redirectUri: client.redirectUri,
      state: stringParam(form, "state") || undefined,
      scope: flow === "apps" ? "stripe_apps" : (stringParam(form, "scope") ?? "read_only"),
    };
    const decision = stringParam(form, "decision") === "approve" ? "approve" : "deny";
    return completeAuthorization(state, request, decision, stringParam(form, "account"));
  });

  app.post("/oauth/token", (c) => exchangeToken(state, c.req.raw, "connect"));

  app.post("/oauth/deauthorize", async (c) => {
    const form = await readFormParams(c.req.raw);
    const { platform, mode } = requireSecretKey(
      state,
      readCredential(c.req.raw) ?? stringParam(form, "client_secret"),
    );
    const clientId = stringParam(form, "client_id");
    if (clientId !== undefined && clientId !== platform.keys[mode].clientId)
      throw oauthError(400, "invalid_client", `No such application: '${clientId}'`);
    const accountId = stringParam(form, "stripe_user_id");
    if (!accountId) throw oauthError(400, "invalid_request", "No stripe_user_id provided");
    const account = state.store.account(accountId);
    if (!account?.connections.get(connectionKey(platform.id, mode)))
      throw oauthError(
        400,
        "invalid_client",
        `This application is not connected to stripe account ${accountId}, or that account does not exist.`,
      );
    uninstallApp(state, accountId, { platformId: platform.id, modes: [mode] });
    return c.json({ stripe_user_id: accountId });
  });
}
