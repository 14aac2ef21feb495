import { installApp } from "./mutations-payouts.ts";
import { findClient, type Platform, resolveRedirectUri } from "./platforms.ts";
import type { EmulatorState } from "./state.ts";
import type { GrantKind } from "./tokens.ts";
import type { Mode } from "./types.ts";

/** A validated authorize request of either flow (Stripe Apps or legacy Connect). */
export interface AuthorizeRequest {
  flow: GrantKind;
  platform: Platform;
  mode: Mode;
  redirectUri: string;
  state: string | undefined;
  /** `stripe_apps` for Stripe Apps; `read_only` / `read_write` for Connect. */
  scope: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function htmlPage(status: number, title: string, body: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1a1f36}
button{font:inherit;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:6px;border:1px solid #635bff;cursor:pointer}
.approve{background:#635bff;color:#fff}.deny{background:#fff;color:#635bff}select{font:inherit;padding:.3rem}</style>
</head><body>${body}</body></html>`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

/** Not redirected: a bad client_id or redirect_uri is shown to the user, as Stripe does. */
export function authorizeErrorPage(message: string): Response {
  return htmlPage(400, "Stripe OAuth error", `<h1>Something went wrong</h1><p>${escapeHtml(message)}</p>`);
}

function redirect(uri: string, params: Record<string, string | undefined>): Response {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  return new Response(null, { status: 302, headers: { location: url.toString() } });
}

/** Approves (302 with `code`) or denies (302 with `error=access_denied`) an authorize request. */
export function completeAuthorization(
  state: EmulatorState,
  request: AuthorizeRequest,
  decision: "approve" | "deny",
  accountId?: string,
): Response {
  if (decision === "deny")
    return redirect(request.redirectUri, {
      error: "access_denied",
      error_description: "The user denied your request",
      state: request.state,
    });
  const chosen = accountId ?? state.oauth.nextAccount ?? state.accountIds[0];
  if (accountId === undefined) state.oauth.nextAccount = null;
  if (!chosen || !state.store.account(chosen))
    return authorizeErrorPage(`No such account: '${chosen ?? ""}'`);
  installApp(state, chosen, request.platform.id, request.mode);
  const grant = {
    kind: request.flow,
    platformId: request.platform.id,
    accountId: chosen,
    mode: request.mode,
    scope: request.scope,
  };
  const code = state.tokens.issueCode(grant, state.clock.now());
  return redirect(request.redirectUri, {
    code,
    scope: request.flow === "connect" ? request.scope : undefined,
    state: request.state,
  });
}

/** Applies the configured decision: redirect at once, or show the consent page. */
export function beginAuthorization(state: EmulatorState, request: AuthorizeRequest): Response {
  const decision = state.oauth.decision;
  return decision === "page" ? consentPage(state, request) : completeAuthorization(state, request, decision);
}

/** The consent page for people: pick an account, approve or deny. */
function consentPage(state: EmulatorState, request: AuthorizeRequest): Response {
  const options = state.accountIds
    .map((id) => {
      const profile = state.store.account(id)?.object.business_profile as { name?: string } | undefined;
      const selected = id === (state.oauth.nextAccount ?? state.accountIds[0]) ? " selected" : "";
      return `<option value="${id}"${selected}>${escapeHtml(profile?.name ?? id)} (${id})</option>`;
    })
    .join("");
  const hidden = {
    flow: request.flow,
    client_id: request.platform.keys[request.mode].clientId,
    redirect_uri: request.redirectUri,
    state: request.state ?? "",
    scope: request.scope,
  };
  const inputs = Object.entries(hidden)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join("");
  const what =
    request.flow === "apps" ? "install the app" : `connect with ${escapeHtml(request.scope)} access`;
  return htmlPage(
    200,
    `Authorize ${request.platform.name}`,
    `<h1>${escapeHtml(request.platform.name)}</h1>
<p>${escapeHtml(request.platform.name)} wants to ${what} (${request.mode} mode).</p>
<form method="post" action="/oauth/consent">${inputs}
<p><label>Account <select name="account">${options}</select></label></p>
<p><button class="approve" name="decision" value="approve">Approve</button>
<button class="deny" name="decision" value="deny">Deny</button></p></form>
<p><small>Stripe emulator — no real Stripe account is involved.</small></p>`,
  );
}

export type ResolvedClient =
  | { ok: true; platform: Platform; mode: Mode; redirectUri: string }
  | { ok: false; error: string; message: string };

/** Checks client_id and redirect_uri (exact match against the app's allowed list; default the first). */
export function resolveClient(
  state: EmulatorState,
  clientId: string | undefined,
  redirectUri: string | undefined,
): ResolvedClient {
  const client = clientId ? findClient(state.platforms, clientId) : undefined;
  if (!client)
    return { ok: false, error: "invalid_client", message: `No such application: '${clientId ?? ""}'` };
  const resolved = resolveRedirectUri(client.platform, redirectUri);
  if (!resolved)
    return {
      ok: false,
      error: "invalid_redirect_uri",
      message: `Invalid redirect URI '${redirectUri ?? ""}'. Ensure this uri exactly matches one of the URIs specified in your application settings`,
    };
  return { ok: true, platform: client.platform, mode: client.mode, redirectUri: resolved };
}

/** The publishable key handed out with tokens for a connected account. */
export function accountPublishableKey(accountId: string, mode: Mode): string {
  return `pk_${mode}_51${accountId.slice(5)}EmulatorPublishableKey`;
}
