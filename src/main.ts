// The only module with side effects: environment → deps → HTTP server → graceful shutdown.
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createDeps } from "./deps.ts";
import { attachWebSocket } from "./http/websocket.ts";

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const deps = await createDeps(config);
  const app = createApp(deps);
  const server = <Server>serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (address) => {
    deps.logger.info(
      { port: address.port, host: config.host, database: deps.db.kind, publicUrl: config.publicUrl },
      `gateway listening on http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${address.port}/graphql`,
    );
  });

  const websocket = attachWebSocket(server, app.graphql, deps);

  deps.sync.startWorkers();

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, "shutting down: finishing in-flight requests");
    const force = setTimeout(() => {
      deps.logger.warn("in-flight requests did not finish in time; closing anyway");
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // WebSocket clients are told to go away (1001) so that they reconnect to another instance.
    void websocket.close();
    // close() stops accepting and resolves once every in-flight request has been answered
    server.close(async () => {
      clearTimeout(force);
      await deps.close();
      deps.logger.info("stopped");
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  // Config problems are the user's to fix: print them plainly, without a stack trace.
  console.error(error instanceof ConfigError ? error.message : `gateway failed to start: ${describe(error)}`);
  process.exit(1);
});

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
