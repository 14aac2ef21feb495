// `/v1/webhook_endpoints`: what the Workbench's "Add destination" does, through the API. An endpoint
// belongs to the platform account and mode of the secret key that created it; a Connect one
// (`connect=true`) receives the events of that platform's connected accounts, signed with its own secret.
import type { Hono } from "hono";
import { apiError, errors } from "./api-errors.ts";
import type { Caller } from "./auth.ts";
import eventTypes from "./event-types.json" with { type: "json" };
import { type Params, parseParams, readFormParams, stringParam } from "./params.ts";
import { maskKey } from "./random.ts";
import type { EmulatorEnv, EmulatorState } from "./state.ts";
import type { WebhookEndpoint } from "./webhooks.ts";

type Env = EmulatorEnv & { Variables: { caller: Caller } };

/** "You can register up to 16 webhook endpoints" (docs.stripe.com/webhooks), per account and mode. */
const MAX_ENDPOINTS = 16;
const ENABLED_EVENTS = ["*", ...eventTypes.types];
const KNOWN_EVENTS = new Set(ENABLED_EVENTS);
const CREATE_PARAMS = new Set([
  "url",
  "enabled_events",
  "connect",
  "description",
  "metadata",
  "api_version",
  "expand",
]);
const UPDATE_PARAMS = new Set(["url", "enabled_events", "disabled", "description", "metadata", "expand"]);
const LABEL = "webhook endpoint";

/** Stripe's object; `secret` only in the answer to the create call. */
function render(endpoint: WebhookEndpoint, withSecret = false) {
  return {
    id: endpoint.id,
    object: "webhook_endpoint",
    api_version: endpoint.apiVersion,
    application: null,
    created: endpoint.created,
    description: endpoint.description,
    enabled_events: [...endpoint.enabledEvents],
    livemode: endpoint.mode === "live",
    metadata: { ...endpoint.metadata },
    ...(withSecret ? { secret: endpoint.secret } : {}),
    status: endpoint.status,
    url: endpoint.url,
  };
}

/** Managing webhook endpoints takes the platform's own key (no `Stripe-Account`, no OAuth token). */
function requirePlatform(caller: Caller): { platformId: string; mode: Caller["mode"] } {
  if (
    caller.accountId !== caller.platform.id ||
    caller.permissions !== null ||
    caller.key.startsWith("rk_")
  ) {
    throw apiError(403, {
      message: `The provided key '${maskKey(caller.key)}' does not have the required permissions for this endpoint. Use the secret key of the platform account.`,
    });
  }
  return { platformId: caller.platform.id, mode: caller.mode };
}

const readQuery = (url: string) => parseParams(new URL(url).searchParams);

function checkParams(params: Params, allowed: ReadonlySet<string>): void {
  for (const name of params.keys()) if (!allowed.has(name)) throw errors.unknownParameter(name);
}

function enabledEvents(params: Params): string[] | undefined {
  const value = params.get("enabled_events");
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw errors.invalidParameter("enabled_events", "Invalid array");
  if (value.length === 0) throw errors.missingParameter("enabled_events");
  value.forEach((type, index) => {
    if (!KNOWN_EVENTS.has(type)) throw errors.invalidEnum(`enabled_events[${index}]`, ENABLED_EVENTS);
  });
  return [...new Set(value)];
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)$/i;

/**
 * Stripe delivers over HTTPS to public addresses in live mode ("Registered webhook endpoints must be
 * publicly accessible HTTPS URLs", docs.stripe.com/webhooks); in test mode it also takes http and, here,
 * local addresses, which is what local work needs (Stripe itself would send you to `stripe listen`).
 */
function endpointUrl(value: string | undefined, mode: Caller["mode"]): string | undefined {
  if (value === undefined) return undefined;
  const url = URL.parse(value);
  const invalid = (reason: string) =>
    apiError(400, { code: "url_invalid", param: "url", message: `Invalid URL: ${reason}` });
  if (!url || !/^https?:$/.test(url.protocol)) throw invalid(`${value} is not an absolute http(s) URL.`);
  if (mode === "live" && url.protocol !== "https:") throw invalid("URL must use HTTPS in live mode.");
  if (mode === "live" && LOOPBACK.test(url.hostname)) {
    throw invalid(
      "URL must be publicly accessible. Consider using a tool like the Stripe CLI to test webhooks locally.",
    );
  }
  return value;
}

function booleanParam(params: Params, name: string): boolean | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  if (value === "true" || value === "false") return value === "true";
  throw errors.invalidParameter(name, `Invalid boolean: ${String(value)}`);
}

function metadataParam(params: Params): Record<string, string> | undefined {
  const value = params.get("metadata");
  if (value === undefined) return undefined;
  if (value === "") return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw errors.invalidParameter("metadata", "Invalid hash");
  return value;
}

/** Applies Stripe's metadata update: an empty value unsets its key, an empty `metadata` every key. */
function mergeMetadata(
  current: Record<string, string>,
  patch: Record<string, string>,
): Record<string, string> {
  const merged = { ...current, ...patch };
  for (const [key, value] of Object.entries(patch)) if (value === "") delete merged[key];
  return merged;
}

/** Newest first, Stripe's cursor pagination (`limit`, `starting_after`, `ending_before`). */
function listPage(endpoints: WebhookEndpoint[], params: Params) {
  checkParams(params, new Set(["limit", "starting_after", "ending_before", "expand"]));
  const limitRaw = stringParam(params, "limit");
  const limit = limitRaw === undefined ? 10 : Number(limitRaw);
  if (!Number.isInteger(limit)) throw errors.invalidInteger("limit", `Invalid integer: ${limitRaw}`);
  if (limit < 1) throw errors.invalidInteger("limit", "This value must be greater than or equal to 1.");
  if (limit > 100) throw errors.invalidInteger("limit", "This value must be less than or equal to 100.");
  const newestFirst = [...endpoints].reverse();
  const after = stringParam(params, "starting_after");
  const before = stringParam(params, "ending_before");
  const position = (id: string, param: string) => {
    const index = newestFirst.findIndex((endpoint) => endpoint.id === id);
    if (index < 0) throw errors.resourceMissing(LABEL, id, param);
    return index;
  };
  let page: WebhookEndpoint[];
  let hasMore: boolean;
  if (before !== undefined) {
    const end = position(before, "ending_before");
    page = newestFirst.slice(Math.max(0, end - limit), end);
    hasMore = end - limit > 0;
  } else {
    const start = after === undefined ? 0 : position(after, "starting_after") + 1;
    page = newestFirst.slice(start, start + limit);
    hasMore = start + limit < newestFirst.length;
  }
  return {
    object: "list",
    data: page.map((e) => render(e)),
    has_more: hasMore,
    url: "/v1/webhook_endpoints",
  };
}

/** Create, retrieve, update, list and delete, on the API router (after authentication). */
export function registerWebhookEndpointRoutes(api: Hono<Env>, state: EmulatorState): void {
  const own = (caller: Caller) => {
    const { platformId, mode } = requirePlatform(caller);
    return state.webhooks.endpoints.filter((e) => e.platformId === platformId && e.mode === mode);
  };
  const find = (caller: Caller, id: string) => {
    const endpoint = own(caller).find((e) => e.id === id);
    if (!endpoint) throw errors.resourceMissing(LABEL, id);
    return endpoint;
  };

  api.post("/v1/webhook_endpoints", async (c) => {
    const caller = c.get("caller");
    const { platformId, mode } = requirePlatform(caller);
    const params = await readFormParams(c.req.raw);
    checkParams(params, CREATE_PARAMS);
    const url = endpointUrl(stringParam(params, "url"), mode);
    if (url === undefined) throw errors.missingParameter("url");
    const events = enabledEvents(params);
    if (events === undefined) throw errors.missingParameter("enabled_events");
    const apiVersion = stringParam(params, "api_version");
    if (apiVersion !== undefined && !/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(apiVersion))
      throw errors.invalidParameter("api_version", `Invalid api_version: ${apiVersion}`);
    if (own(caller).length >= MAX_ENDPOINTS) {
      throw apiError(400, {
        message: `You have reached the maximum of ${MAX_ENDPOINTS} ${mode} webhook endpoints on this account. Delete one before adding another.`,
      });
    }
    const endpoint = state.webhooks.addEndpoint({
      url,
      enabledEvents: events,
      connect: booleanParam(params, "connect") ?? false,
      mode,
      platformId,
      description: stringParam(params, "description") || null,
      metadata: mergeMetadata({}, metadataParam(params) ?? {}),
      apiVersion: apiVersion ?? null,
    });
    return c.json(render(endpoint, true));
  });

  api.get("/v1/webhook_endpoints", (c) => c.json(listPage(own(c.get("caller")), readQuery(c.req.url))));

  api.get("/v1/webhook_endpoints/:id", (c) => {
    checkParams(readQuery(c.req.url), new Set(["expand"]));
    return c.json(render(find(c.get("caller"), c.req.param("id"))));
  });

  api.post("/v1/webhook_endpoints/:id", async (c) => {
    const caller = c.get("caller");
    const endpoint = find(caller, c.req.param("id"));
    const params = await readFormParams(c.req.raw);
    checkParams(params, UPDATE_PARAMS);
    const url = endpointUrl(stringParam(params, "url"), caller.mode);
    const events = enabledEvents(params);
    const disabled = booleanParam(params, "disabled");
    const metadata = metadataParam(params);
    if (url !== undefined) endpoint.url = url;
    if (events !== undefined) endpoint.enabledEvents = events;
    if (disabled !== undefined) endpoint.status = disabled ? "disabled" : "enabled";
    if (params.has("description")) endpoint.description = stringParam(params, "description") || null;
    if (metadata !== undefined)
      endpoint.metadata = params.get("metadata") === "" ? {} : mergeMetadata(endpoint.metadata, metadata);
    return c.json(render(endpoint));
  });

  api.delete("/v1/webhook_endpoints/:id", (c) => {
    const endpoint = find(c.get("caller"), c.req.param("id"));
    state.webhooks.removeEndpoint(endpoint.id);
    return c.json({ id: endpoint.id, object: "webhook_endpoint", deleted: true });
  });
}
