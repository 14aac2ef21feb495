import { type BackgroundTasks, createBackgroundTasks } from "./background-tasks.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { type CredentialsProvider, createCredentialsProvider } from "./connections/credentials.ts";
import { markCredentialsRejected } from "./connections/status.ts";
import type { Database } from "./db/client.ts";
import { type DatabaseRole, openGatewayDatabase } from "./db/open.ts";
import type { BeforeStatement } from "./db/statement-hook.ts";
import { type ChangeFeed, createChangeFeed } from "./feed/change-feed.ts";
import {
  createWebhookDispatcher,
  type DispatcherOptions,
  type WebhookDispatcher,
} from "./feed/webhooks/dispatcher.ts";
import type { TargetPolicy } from "./feed/webhooks/endpoint-url.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createKeyUsage, type KeyUsage } from "./orgs/api-keys.ts";
import { createGatewayCache, type GatewayCache } from "./orgs/cache.ts";
import { resolveEncryptionKey } from "./orgs/encryption-key.ts";
import { checkEncryptionKey } from "./orgs/encryption-key-check.ts";
import { createRateLimiter, type RateLimiter } from "./orgs/rate-limits.ts";
import { createSecretBox, type SecretBox } from "./orgs/secrets.ts";
import { createPubSub, type GatewayPubSub } from "./pubsub.ts";
import { createStripeApi, type StripeApi } from "./stripe/api.ts";
import { createStripeClients, type StripeClients } from "./stripe/client.ts";
import type { HttpFetch } from "./stripe/oauth.ts";
import { createStripePlatformApi, type StripePlatformApi } from "./stripe/platform.ts";
import { createEventBatcher, type EventBatcher } from "./sync/event-batcher.ts";
import { createSyncScheduler, type SyncScheduler } from "./sync/scheduler.ts";

/** Everything the app needs, built once per process (or per test). */
export type Deps = {
  config: Config;
  logger: Logger;
  db: Database;
  secrets: SecretBox;
  clock: Clock;
  pubsub: GatewayPubSub;
  /** API keys, webhook signing secrets and connection routing, served from memory */
  cache: GatewayCache;
  /** Token buckets per credential and per org (in Redis when REDIS_URL is set) */
  rateLimits: RateLimiter;
  /** Records an API key's use in its lastUsedAt (at most once a minute per key) */
  keyUsed: KeyUsage;
  /** Work started after a response (webhook follow-ups); awaited at shutdown */
  background: BackgroundTasks;
  /** HTTP client for Stripe's OAuth endpoints */
  fetch: HttpFetch;
  credentials: CredentialsProvider;
  stripe: StripeClients;
  /** Rate-budgeted, retrying reads from Stripe for a connection */
  stripeApi: StripeApi;
  /** An org's own calls with its secret key: checking the key, its Connect webhook endpoint */
  stripePlatform: StripePlatformApi;
  sync: SyncScheduler;
  /** Live and resumed changes of the change log, for this instance's subscribers */
  changeFeed: ChangeFeed;
  /** Webhook events applied in shared transactions (group commit) */
  eventBatcher: EventBatcher;
  /** Where the org's webhook endpoints may point */
  webhookPolicy: TargetPolicy;
  /** Signed deliveries of the change log to the org's webhook endpoints */
  webhooks: WebhookDispatcher;
  close(): Promise<void>;
};

export type DepsOverrides = {
  logger?: Logger;
  clock?: Clock;
  /** How this process uses the embedded cluster (default: as the gateway that owns it) */
  databaseRole?: DatabaseRole;
  fetch?: HttpFetch;
  /** Emit SQL statements to db.onQuery listeners */
  queryEvents?: boolean;
  /** Sees every SQL statement before it runs; throwing fails it (fault tests) */
  beforeStatement?: BeforeStatement;
  /**
   * An open database to share (a second instance in-process, or one restarted after a crash);
   * it stays open when these deps close.
   */
  database?: Database;
  /** First backoff of retried Stripe reads (tests shorten it) */
  retryBaseMs?: number;
  /** Max age of cached lookups (default CACHE_MAX_AGE_MS, 1 s; tests lengthen it) */
  cacheMaxAgeMs?: number;
  /** Webhook delivery settings (tests shorten the retry schedule, leases and polling) */
  webhooks?: Partial<Omit<DispatcherOptions, "policy" | "disableAfterMs" | "retentionDays">>;
};

export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const key = await resolveEncryptionKey(config, (message) => logger.warn(message));
  const db =
    overrides.database ??
    (await openGatewayDatabase(config, {
      role: overrides.databaseRole ?? "gateway",
      log: (message) => logger.info(message),
      queryEvents: overrides.queryEvents,
      beforeStatement: overrides.beforeStatement,
    }));
  const secrets = createSecretBox(key);
  try {
    await checkEncryptionKey(db.prisma, secrets);
  } catch (error) {
    if (!overrides.database) await db.close();
    throw error;
  }
  // Bottom-up: each service is built from the ones before it, and takes only what it uses.
  const clock = overrides.clock ?? systemClock;
  const pubsub = createPubSub({ redisUrl: config.redisUrl, logger });
  const cache = createGatewayCache(
    { prisma: db.prisma, secrets, pubsub },
    { maxAgeMs: overrides.cacheMaxAgeMs },
  );
  const keyUsed = createKeyUsage({ prisma: db.prisma });
  const rateLimits = createRateLimiter({ config, clock, logger });
  const background = createBackgroundTasks(logger);
  const http: HttpFetch = overrides.fetch ?? ((input, init) => fetch(input, init));
  const credentials = createCredentialsProvider({ config, logger, db, secrets, clock, pubsub, fetch: http });
  const stripe = createStripeClients({
    apiUrl: config.stripe.apiUrl,
    credentials,
    onCredentialsRejected: (connectionId) => markCredentialsRejected({ db, pubsub, clock }, connectionId),
  });
  const stripeApi = createStripeApi({ stripe, logger, clock }, { retryBaseMs: overrides.retryBaseMs });
  const stripePlatform = createStripePlatformApi({
    apiUrl: config.stripe.apiUrl,
    retryBaseMs: overrides.retryBaseMs,
  });
  const sync = createSyncScheduler({ config, db, clock, logger, pubsub, stripeApi });
  const eventBatcher = createEventBatcher({ config, db, clock, logger, pubsub, stripeApi });
  const changeFeed = createChangeFeed(
    { db, pubsub, logger, clock },
    { retentionDays: config.changeRetentionDays },
  );
  const webhookPolicy: TargetPolicy = {
    production: config.env === "production",
    allowPrivate: config.webhooks.allowPrivateUrls,
  };
  const webhooks = createWebhookDispatcher(
    { db, pubsub, logger, clock, secrets },
    {
      policy: webhookPolicy,
      disableAfterMs: config.webhooks.disableAfterDays * 24 * 60 * 60 * 1000,
      retentionDays: config.changeRetentionDays,
      ...overrides.webhooks,
    },
  );
  return {
    config,
    logger,
    db,
    secrets,
    clock,
    pubsub,
    cache,
    rateLimits,
    keyUsed,
    background,
    fetch: http,
    credentials,
    stripe,
    stripeApi,
    stripePlatform,
    sync,
    changeFeed,
    eventBatcher,
    webhookPolicy,
    webhooks,
    async close() {
      sync.stop();
      changeFeed.close();
      await webhooks.close();
      await sync.idle();
      await eventBatcher.idle();
      await background.idle();
      cache.close();
      await pubsub.close();
      await rateLimits.close();
      if (!overrides.database) await db.close();
    },
  };
}
