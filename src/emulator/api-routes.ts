import { type Context, Hono } from "hono";
import { errors } from "./api-errors.ts";
import { authenticate, type Caller, requirePermission } from "./auth.ts";
import { listObjects, retrieveObject } from "./list.ts";
import { parseParams } from "./params.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { fundsAvailable, RESOURCES, resourceSpec } from "./resources.ts";
import type { EmulatorEnv, EmulatorState } from "./state.ts";
import { connectionKey } from "./store.ts";
import type { Mode } from "./types.ts";
import { registerWebhookEndpointRoutes } from "./webhook-endpoint-routes.ts";

type ApiEnv = EmulatorEnv & { Variables: { caller: Caller } };

function balance(state: EmulatorState, caller: Caller) {
  const now = state.clock.seconds();
  const totals = new Map<string, { available: number; pending: number }>();
  const account = state.store.account(caller.accountId)?.object;
  totals.set((account?.default_currency as string) ?? "usd", { available: 0, pending: 0 });
  const transactions = state.store.collection(caller.accountId, caller.mode, "balance_transaction");
  for (const record of transactions.items) {
    const object = record.object;
    const entry = totals.get(object.currency as string) ?? { available: 0, pending: 0 };
    if (fundsAvailable(record, now)) entry.available += object.net as number;
    else entry.pending += object.net as number;
    totals.set(object.currency as string, entry);
  }
  const rows = (pick: "available" | "pending") =>
    [...totals].map(([currency, t]) => ({ amount: t[pick], currency, source_types: { card: t[pick] } }));
  return {
    object: "balance",
    available: rows("available"),
    connect_reserved: [...totals.keys()].map((currency) => ({ amount: 0, currency })),
    livemode: caller.mode === ("live" satisfies Mode),
    pending: rows("pending"),
  };
}

/** The REST API: auth, per-account rate limit, and list/retrieve routes generated from RESOURCES. */
export function registerApiRoutes(app: Hono<EmulatorEnv>, state: EmulatorState, limiter: RateLimiter): void {
  const api = new Hono<ApiEnv>();
  api.use("/v1/*", async (c, next) => {
    if (c.req.path === "/v1/oauth/token") return next();
    const caller = authenticate({ ...state, now: state.clock.now }, c.req.raw);
    if (!limiter.take(caller.accountId, caller.mode)) throw errors.rateLimited();
    c.set("caller", caller);
    const stripeAccount = c.req.header("stripe-account");
    if (stripeAccount) c.header("Stripe-Account", stripeAccount);
    return next();
  });

  const query = (url: string) => parseParams(new URL(url).searchParams);
  const accountObject = (caller: Caller, id: string, url: string) => {
    requirePermission(caller, "connected_account_read");
    for (const name of query(url).keys()) if (name !== "expand") throw errors.unknownParameter(name);
    const account = state.store.account(id);
    const viaPlatform =
      caller.accountId === caller.platform.id &&
      account?.connections.get(connectionKey(caller.platform.id, caller.mode));
    if (!account || (id !== caller.accountId && !viaPlatform)) throw errors.resourceMissing("account", id);
    return account.object;
  };
  api.get("/v1/account", (c) => c.json(accountObject(c.get("caller"), c.get("caller").accountId, c.req.url)));
  api.get("/v1/accounts/:id", (c) => c.json(accountObject(c.get("caller"), c.req.param("id"), c.req.url)));
  api.get("/v1/balance", (c) => {
    requirePermission(c.get("caller"), "balance_read");
    return c.json(balance(state, c.get("caller")));
  });

  for (const spec of RESOURCES) {
    // Sub-resources live under their parent: /v1/application_fees/:parent/refunds[/:id].
    const base = spec.parent ? `/v1/${resourceSpec(spec.parent.resource).path}/:parent/` : "/v1/";
    const context = (c: Context<ApiEnv>) => {
      const caller = c.get("caller");
      requirePermission(caller, spec.permission);
      const params = query(c.req.url);
      return {
        store: state.store,
        caller,
        spec,
        params,
        now: state.clock.now(),
        parentId: c.req.param("parent"),
      };
    };
    api.get(`${base}${spec.path}`, (c) => c.json(listObjects(context(c))));
    api.get(`${base}${spec.path}/:id`, (c) =>
      c.json(retrieveObject(context(c), c.req.param("id") as string)),
    );
  }
  registerWebhookEndpointRoutes(api, state);
  app.route("/", api);
}
