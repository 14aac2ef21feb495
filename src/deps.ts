import path from "node:path";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { type Database, openDatabase } from "./db/client.ts";
import { createLogger, type Logger } from "./logger.ts";
import { resolveEncryptionKey } from "./orgs/encryption-key.ts";
import { createSecretBox, type SecretBox } from "./orgs/secrets.ts";

/** Everything the app needs, built once per process (or per test). */
export type Deps = {
  config: Config;
  logger: Logger;
  db: Database;
  secrets: SecretBox;
  clock: Clock;
  close(): Promise<void>;
};

export type DepsOverrides = { logger?: Logger; clock?: Clock; pgliteDir?: string };

export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const key = await resolveEncryptionKey(config, (message) => logger.warn(message));
  const db = await openDatabase({
    url: config.databaseUrl,
    pgliteDir: overrides.pgliteDir ?? path.join(config.dataDir, "pglite"),
    log: (message) => logger.info(message),
  });
  return {
    config,
    logger,
    db,
    secrets: createSecretBox(key),
    clock: overrides.clock ?? systemClock,
    close: () => db.close(),
  };
}
