import type { Config } from "../config.ts";
import { type Database, openDatabase } from "./client.ts";
import { type ClusterSettings, startCluster } from "./embedded/cluster.ts";
import { gatewayHoldsLock, takeInstanceLock } from "./embedded/instance-lock.ts";
import { importPGliteDataDir } from "./embedded/pglite-import.ts";
import { MIGRATIONS_DIR } from "./migrate.ts";
import type { BeforeStatement } from "./statement-hook.ts";

/**
 * Who opens the embedded cluster. The gateway owns it: one per DATA_DIR, stopping it on shutdown. A command
 * (the CLI) uses a running cluster as it is, and stops one it started itself unless a gateway came since.
 */
export type DatabaseRole = "gateway" | "command";

export type OpenOptions = {
  role: DatabaseRole;
  log: (message: string) => void;
  queryEvents?: boolean;
  beforeStatement?: BeforeStatement;
  /** Server settings of the embedded cluster (the test suite's turns durability off) */
  clusterSettings?: ClusterSettings;
};

/** The server at DATABASE_URL, or the embedded cluster in DATA_DIR (started here, or found running). */
export async function openGatewayDatabase(config: Config, options: OpenOptions): Promise<Database> {
  const { log } = options;
  const driver = { log, queryEvents: options.queryEvents, beforeStatement: options.beforeStatement };
  if (config.databaseUrl)
    return openDatabase({ connection: config.databaseUrl, kind: "postgres", ...driver });

  const cluster = await startCluster({ dataDir: config.dataDir, log, settings: options.clusterSettings });
  // A second gateway is refused here, leaving the first one's cluster running.
  const lock =
    options.role === "gateway"
      ? await takeInstanceLock(cluster.connection, config.dataDir).catch(async (error: unknown) => {
          if (cluster.startedHere) await cluster.stop().catch(() => {});
          throw error;
        })
      : null;
  const finish = async () => {
    if (lock) {
      await lock.release();
      await cluster.stop();
    } else if (cluster.startedHere && !(await gatewayHoldsLock(cluster.connection))) {
      await cluster.stop();
    }
  };
  let db: Database;
  try {
    db = await openDatabase({
      connection: cluster.connection,
      kind: "embedded",
      ...driver,
      afterClose: finish,
      // What `finish` would stop, without the lock's release (a fast stop ends that session too).
      stopServer: async () => {
        if (lock || cluster.startedHere) await cluster.stop();
      },
    });
  } catch (error) {
    await finish().catch(() => {});
    throw error;
  }
  try {
    await importPGliteDataDir({
      dataDir: config.dataDir,
      connection: cluster.connection,
      migrationsDir: MIGRATIONS_DIR,
      log,
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
