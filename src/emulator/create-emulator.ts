import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errors, StripeHttpError } from "./api-errors.ts";
import { registerApiRoutes } from "./api-routes.ts";
import { type ClockOptions, createClock, type EmulatorClock } from "./clock.ts";
import { createControl, type EmulatorControl } from "./control.ts";
import { registerControlRoutes } from "./control-routes.ts";
import { type DatasetSize, generateDataset } from "./dataset.ts";
import { FaultInjector, type FaultInput } from "./faults.ts";
import { registerAppsOAuth } from "./oauth-apps.ts";
import { registerConnectOAuth } from "./oauth-connect.ts";
import { fromFixture } from "./objects.ts";
import { createPlatforms, type Platform, type PlatformInput } from "./platforms.ts";
import { createRandom, randomToken } from "./random.ts";
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimits } from "./rate-limit.ts";
import type { EmulatorEnv, EmulatorState, OAuthDecision } from "./state.ts";
import { connectionKey, Store } from "./store.ts";
import { TokenStore } from "./tokens.ts";
import { type DeliveryOptions, WebhookDispatcher, type WebhookEndpointInput } from "./webhooks.ts";

/** Options of {@link createEmulator}; everything has a default. */
export interface EmulatorOptions {
  /** Seed of the generated data, keys and ids (default "stripe-emulator"). */
  seed?: string | number;
  /** Number of connected accounts (default 3). */
  accounts?: number;
  /** Dataset size per account and mode (default "small"). */
  size?: DatasetSize;
  /** Days of history (default 180). */
  days?: number;
  platforms?: PlatformInput[];
  /** An existing clock, or options for a new one (default: wall time, movable). */
  clock?: EmulatorClock | ClockOptions;
  /** Requests per second per account and mode, or false to disable (default 25 test / 100 live). */
  rateLimits?: RateLimits | false;
  oauthDecision?: OAuthDecision;
  webhookEndpoints?: WebhookEndpointInput[];
  /** Failures to inject from the first request on (see `control.injectFailure`). */
  failures?: FaultInput[];
  delivery?: Partial<DeliveryOptions>;
  /** API version stamped on events (default stripe-node 23.1.0's pinned version). */
  apiVersion?: string;
}

export interface RunningEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface Emulator {
  fetch(request: Request): Promise<Response>;
  listen(port?: number, host?: string): Promise<RunningEmulator>;
  control: EmulatorControl;
  clock: EmulatorClock;
  platforms: Platform[];
  accountIds: string[];
  /** Stops webhook timers (and servers started by `listen`). */
  close(): Promise<void>;
}

const isClock = (value: unknown): value is EmulatorClock =>
  typeof value === "object" && value !== null && "now" in value && "advance" in value;

/** Builds a Stripe emulator: one fetch handler serving api, connect and marketplace paths. */
export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const seed = String(options.seed ?? "stripe-emulator");
  const clock = isClock(options.clock) ? options.clock : createClock(options.clock);
  const apiVersion = options.apiVersion ?? "2026-10-28.endive";
  const platforms = createPlatforms(seed, options.platforms);
  const store = new Store();
  for (const platform of platforms) {
    const account = fromFixture("account", { id: platform.id, created: clock.seconds() - 400 * 86_400 });
    Object.assign(account.business_profile as object, { name: platform.name });
    Object.assign((account.settings as { dashboard: object }).dashboard, { display_name: platform.name });
    Object.assign(account.external_accounts as object, {
      url: `/v1/accounts/${platform.id}/external_accounts`,
    });
    store.accounts.set(platform.id, { object: account, connections: new Map() });
  }
  const accountIds = generateDataset(store, {
    seed,
    accounts: options.accounts ?? 3,
    size: options.size ?? "small",
    days: options.days,
    now: clock.seconds(),
    platforms,
    apiVersion,
  });
  const runtimeIds = createRandom(`${seed}/runtime`);
  const webhooks = new WebhookDispatcher(
    clock,
    options.delivery,
    (accountId, platformId, mode) =>
      store.account(accountId)?.connections.has(connectionKey(platformId, mode)) ?? false,
  );
  for (const endpoint of options.webhookEndpoints ?? []) webhooks.addEndpoint(endpoint);
  const state: EmulatorState = {
    store,
    tokens: new TokenStore(),
    platforms,
    clock,
    webhooks,
    apiVersion,
    accountIds,
    oauth: { decision: options.oauthDecision ?? "approve", nextAccount: null },
    ids: (prefix) => runtimeIds.id(prefix),
  };
  const faults = new FaultInjector();
  for (const failure of options.failures ?? []) faults.add(failure);
  const limiter = new RateLimiter(clock, options.rateLimits ?? DEFAULT_RATE_LIMITS);
  const control = createControl(state, faults, limiter);

  const app = new Hono<EmulatorEnv>();
  app.use(async (c, next) => {
    await next();
    c.res.headers.set("Request-Id", randomToken("req", 14));
    c.res.headers.set("Stripe-Version", c.req.header("stripe-version") ?? apiVersion);
    const idempotencyKey = c.req.header("idempotency-key");
    if (idempotencyKey) c.res.headers.set("Idempotency-Key", idempotencyKey);
  });
  registerAppsOAuth(app, state);
  registerConnectOAuth(app, state);
  registerApiRoutes(app, state, limiter);
  registerControlRoutes(app, control);
  app.notFound((c) => {
    throw errors.unrecognizedUrl(c.req.method, c.req.path);
  });
  app.onError((error, c) => {
    if (error instanceof StripeHttpError)
      return c.json(error.body, error.status as ContentfulStatusCode, error.headers);
    if (error instanceof RangeError)
      return c.json({ error: { type: "invalid_request_error", message: error.message } }, 400);
    console.error("stripe emulator: unexpected error", error);
    const failure = errors.server(500);
    return c.json(failure.body, 500);
  });

  // Over a real port, close the socket mid-request; in-process, fail like fetch does.
  const dropConnection = (env?: EmulatorEnv["Bindings"]): Response => {
    if (env?.incoming) {
      env.incoming.socket.destroy();
      return new Response(null, { status: 500 });
    }
    throw new TypeError("fetch failed", {
      cause: new Error("socket hang up (injected by the Stripe emulator)"),
    });
  };

  const handle = async (request: Request, env?: EmulatorEnv["Bindings"]): Promise<Response> => {
    const path = new URL(request.url).pathname;
    if (!path.startsWith("/_emulator")) {
      const fault = faults.take(path);
      if (fault.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
      if (fault.drop) return dropConnection(env);
      if (fault.dropResponse) {
        // A lost answer: Stripe did the work (consumed the code, rotated the token) but the client never hears.
        await app.fetch(request, env ?? {});
        return dropConnection(env);
      }
      if (fault.errorStatus !== null) {
        const failure = errors.server(fault.errorStatus);
        return Response.json(failure.body, {
          status: failure.status,
          headers: { "Request-Id": randomToken("req", 14), "Stripe-Version": apiVersion },
        });
      }
    }
    return app.fetch(request, env ?? {});
  };

  const servers = new Set<RunningEmulator>();
  return {
    fetch: (request) => handle(request),
    listen(port = 0, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        const server = serve(
          { fetch: (request, env) => handle(request, env as EmulatorEnv["Bindings"]), port, hostname: host },
          (info) => {
            const running: RunningEmulator = {
              url: `http://${host.includes(":") ? `[${host}]` : host}:${info.port}`,
              port: info.port,
              close: () =>
                new Promise<void>((done) => {
                  servers.delete(running);
                  if ("closeAllConnections" in server) server.closeAllConnections();
                  server.close(() => done());
                }),
            };
            servers.add(running);
            resolve(running);
          },
        );
        server.once("error", reject);
      });
    },
    control,
    clock,
    platforms,
    accountIds,
    async close() {
      webhooks.close();
      await Promise.all([...servers].map((server) => server.close()));
    },
  };
}
