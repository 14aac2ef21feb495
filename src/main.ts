// The only module with side effects: environment → deps → HTTP + WebSocket server → graceful shutdown.
// `npm start` runs it with `node --env-file-if-exists=.env`: variables set in the environment win over the file.
import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { prepareDashboard } from "./dashboard/build.ts";
import type { Database } from "./db/client.ts";
import { createDeps } from "./deps.ts";
import { ListenError, type ListeningGateway, listenGateway } from "./http/listen.ts";

/** In-flight requests get this long to finish after SIGTERM/SIGINT; then their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;
/** The whole shutdown (requests, then workers and the database) never takes longer than this. */
const SHUTDOWN_DEADLINE_MS = 20_000;
/** Past the deadline, the embedded cluster's fast stop gets this long before the process exits anyway. */
const DATABASE_STOP_LIMIT_MS = 15_000;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const deps = await createDeps(config);
  let gateway: ListeningGateway;
  try {
    await prepareDashboard(deps.logger);
    gateway = await listenGateway(createApp(deps), deps, { port: config.port, host: config.host });
  } catch (error) {
    await deps.close();
    throw error;
  }
  const local = `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${gateway.port}`;
  deps.logger.info(
    { port: gateway.port, host: config.host, database: deps.db.kind, publicUrl: config.publicUrl },
    `gateway listening on ${local}/ (dashboard) and ${local}/graphql`,
  );
  deps.sync.startWorkers();
  deps.changeFeed.startPruning();
  deps.webhooks.start();

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    // A Ctrl-C reaches both npm and the gateway, and npm forwards it: one signal may arrive twice.
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, "shutting down: finishing in-flight requests");
    let overdue = false;
    setTimeout(() => {
      overdue = true;
      deps.logger.error(
        `shutdown did not finish within ${SHUTDOWN_DEADLINE_MS / 1000} s; stopping the database and exiting anyway`,
      );
      stopDatabaseThenExit(deps.db, 1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    // HTTP first (WebSocket clients are told to go away with 1001, so that they reconnect to another
    // instance), then the workers, pubsub and database that requests were using.
    await gateway.close({
      graceMs: SHUTDOWN_GRACE_MS,
      onGraceExceeded: () => deps.logger.warn("in-flight requests did not finish in time; closing anyway"),
    });
    await deps.close();
    deps.logger.info("stopped");
    // Past the deadline, stopping the database lets a stuck close finish too: it still ends with 1.
    process.exit(overdue ? 1 : 0);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    shutdown(signal).catch((error: unknown) => {
      deps.logger.error({ err: error }, "shutdown failed");
      stopDatabaseThenExit(deps.db, 1);
    });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/** The embedded cluster never outlives the gateway: a fast stop (it ends open sessions), then exit. */
function stopDatabaseThenExit(db: Database, code: number) {
  setTimeout(() => process.exit(code), DATABASE_STOP_LIMIT_MS).unref();
  db.stopServer()
    .catch((error: unknown) => console.error(`could not stop the database: ${describe(error)}`))
    .finally(() => process.exit(code));
}

main().catch((error: unknown) => {
  // Problems that are the user's to fix are printed plainly, in one line each, without a stack trace.
  console.error(error instanceof ConfigError ? error.message : `gateway failed to start: ${describe(error)}`);
  process.exit(1);
});

function describe(error: unknown): string {
  if (error instanceof ListenError && error.code === "EADDRINUSE") {
    return `port ${error.port} is already in use (another gateway, or another program, listens there): stop it, or set PORT to a free port, e.g. PORT=${error.port === 65535 ? 4000 : error.port + 1} npm start`;
  }
  if (error instanceof ListenError && error.code === "EACCES") {
    return `port ${error.port} needs privileges this process does not have: set PORT to a port above 1023, e.g. PORT=4000 npm start`;
  }
  return error instanceof Error ? error.message : String(error);
}
