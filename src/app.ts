import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { DASHBOARD_ASSETS_PATH } from "./dashboard/location.ts";
import type { Deps } from "./deps.ts";
import {
  GRAPHIQL_ASSET_FILES,
  GRAPHIQL_ASSETS_PATH,
  GRAPHIQL_CONTENT_SECURITY_POLICY,
} from "./graphql/graphiql.ts";
import { connectionGlobalId } from "./graphql/stripe-objects.ts";
import { createGraphQLServer, type GraphQLServer } from "./graphql/yoga.ts";
import { graphqlCors } from "./http/cors.ts";
import { createDashboardRoutes } from "./http/dashboard.ts";
import { errorBody } from "./http/error-body.ts";
import { createReadyzHandler, handleHealthz } from "./http/health.ts";
import { createOAuthRedirectHandler } from "./http/oauth-redirect.ts";
import { securityHeaders } from "./http/security-headers.ts";
import { CACHE_FOREVER, serveFiles } from "./http/static-files.ts";
import { createStripeWebhookHandler, limitWebhookBody } from "./http/stripe-webhook.ts";
import type { Logger } from "./logger.ts";

export type App = {
  fetch(request: Request): Promise<Response>;
  /** The Yoga behind /graphql, for the WebSocket endpoint (http/websocket.ts) to serve too. */
  graphql: GraphQLServer;
};

type Env = { Variables: { requestId: string; log: Logger } };

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The whole HTTP surface: GraphQL at /graphql beside the REST routes Stripe calls, and health checks.
 * The app exposes its Yoga, which http/websocket.ts serves over WebSocket too.
 */
export function createApp(deps: Deps): App {
  const graphql = createGraphQLServer(deps);
  const app = new Hono<Env>();

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    // A silent logger's children never write: the request's own child only when a line could be logged.
    const log = deps.logger.isLevelEnabled("fatal") ? deps.logger.child({ requestId }) : deps.logger;
    c.set("requestId", requestId);
    c.set("log", log);
    const started = performance.now();
    await next();
    c.header("x-request-id", requestId);
    // The path only: query strings can carry OAuth codes and state.
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    );
  });

  app.use(securityHeaders({ "/graphql": GRAPHIQL_CONTENT_SECURITY_POLICY }));
  app.use("/graphql", graphqlCors(deps.config.corsOrigins));

  // The dashboard (web/, built by src/dashboard/build.ts) and, outside production, GraphiQL's files.
  const dashboard = createDashboardRoutes();
  app.get("/", dashboard.page);
  app.get(`${DASHBOARD_ASSETS_PATH}*`, dashboard.asset);
  if (deps.config.env !== "production") {
    app.get(`${GRAPHIQL_ASSETS_PATH}*`, serveFiles(GRAPHIQL_ASSET_FILES, CACHE_FOREVER));
  }
  app.get("/healthz", handleHealthz);
  app.get("/readyz", createReadyzHandler(deps));
  app.get(
    "/stripe/proxy/:orgId/redirect",
    createOAuthRedirectHandler(deps, { publicConnectionId: connectionGlobalId }),
  );
  app.post("/stripe/webhooks/:orgId", limitWebhookBody, createStripeWebhookHandler(deps));
  app.on(["GET", "POST", "OPTIONS"], "/graphql", (c) =>
    graphql.handle(c.req.raw, { requestId: c.get("requestId"), log: c.get("log") }),
  );
  app.notFound((c) => c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((error, c) => {
    c.get("log").error({ err: error }, "unhandled error in HTTP route");
    return c.json(errorBody("INTERNAL", "Unexpected error."), 500);
  });

  return { fetch: (request) => Promise.resolve(app.fetch(request)), graphql };
}
