import path from "node:path";
import { z } from "zod";

/** The process environment, as read by `loadConfig`. Tests pass plain objects. */
export type Env = Record<string, string | undefined>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const httpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .transform((url) => url.replace(/\/+$/, ""));

/** Comma-separated origins as browsers send them in `Origin` (scheme://host[:port]); "*" is not one. */
const originList = z.string().transform((value, ctx) => {
  const origins: string[] = [];
  const items = value.split(",").map((part) => part.trim());
  for (const item of items.filter(Boolean)) {
    const url = URL.canParse(item) ? new URL(item) : null;
    // Nothing past the origin: no path, query, fragment or user.
    if (!url || !/^https?:$/.test(url.protocol) || url.href !== `${url.origin}/`) {
      ctx.addIssue({ code: "custom", message: `"${item}" is not an origin: scheme://host[:port], no path` });
    } else {
      origins.push(url.origin);
    }
  }
  return origins;
});

const burst = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const perSecond = (fallback: number) => z.coerce.number().positive().default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default("0.0.0.0"),
  PUBLIC_URL: httpUrl.optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  DATA_DIR: z.string().default("./.data"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional(),
  ENCRYPTION_KEY: z
    .string()
    .refine((value) => Buffer.from(value, "base64").length === 32, "must be 32 bytes, base64-encoded")
    .optional(),
  ADMIN_API_KEY: z.string().min(24, "must be at least 24 characters").optional(),
  STRIPE_API_URL: httpUrl.default("https://api.stripe.com"),
  STRIPE_CONNECT_URL: httpUrl.default("https://connect.stripe.com"),
  STRIPE_MARKETPLACE_URL: httpUrl.default("https://marketplace.stripe.com"),
  SYNC_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(300),
  SYNC_BACKFILLS_AT_ONCE: z.coerce.number().int().min(1).max(1000).default(16),
  CHANGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  WEBHOOK_ALLOW_PRIVATE_URLS: z.enum(["true", "false"], { error: "must be true or false" }).optional(),
  WEBHOOK_DISABLE_AFTER_DAYS: z.coerce.number().positive().max(365).default(5),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  // Query limits (README, "Limits and browser safety"), checked before anything runs.
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(12),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(20),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(1).default(1000),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).default(50),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(25_000),
  GRAPHQL_MAX_BODY_BYTES: z.coerce.number().int().min(1).default(100_000),
  GRAPHQL_INTROSPECTION: z.enum(["true", "false"], { error: "must be true or false" }).optional(),
  CORS_ORIGINS: originList.optional(),
  // Token buckets (README, "Rate limits"): BURST requests at once, refilled at PER_SECOND.
  RATE_LIMIT_API_KEY_BURST: burst(1000),
  RATE_LIMIT_API_KEY_PER_SECOND: perSecond(100),
  RATE_LIMIT_ACCESS_TOKEN_BURST: burst(100),
  RATE_LIMIT_ACCESS_TOKEN_PER_SECOND: perSecond(5),
  RATE_LIMIT_WEBHOOK_BURST: burst(5000),
  RATE_LIMIT_WEBHOOK_PER_SECOND: perSecond(500),
  RATE_LIMIT_OAUTH_BURST: burst(100),
  RATE_LIMIT_OAUTH_PER_SECOND: perSecond(10),
});

/** A token bucket: `burst` requests at once, refilled at `perSecond` (src/orgs/rate-limits.ts). */
export type RateLimit = Readonly<{ burst: number; perSecond: number }>;

export type Config = Readonly<{
  env: "development" | "production" | "test";
  port: number;
  host: string;
  publicUrl: string;
  /** null: the embedded PostgreSQL in dataDir/postgres */
  databaseUrl: string | null;
  dataDir: string;
  /** null: in-process pubsub */
  redisUrl: string | null;
  /** null: generated into dataDir on first embedded start */
  encryptionKey: Buffer | null;
  /** null: admin mutations disabled */
  adminApiKey: string | null;
  stripe: Readonly<{ apiUrl: string; connectUrl: string; marketplaceUrl: string }>;
  syncIntervalSeconds: number;
  /** Connections whose backfill runs at the same time; the others wait for a slot (SYNC_BACKFILLS_AT_ONCE). */
  backfillsAtOnce: number;
  /** How long the change log keeps changes for resuming subscribers (days) */
  changeRetentionDays: number;
  /** The org's webhook endpoints (src/feed/webhooks/) */
  webhooks: Readonly<{
    /** Endpoints may resolve to private, loopback and link-local addresses in production too */
    allowPrivateUrls: boolean;
    /** An endpoint failing without a success for this many days is disabled */
    disableAfterDays: number;
  }>;
  logLevel: (typeof LOG_LEVELS)[number];
  /** Limits checked before a GraphQL operation runs; introspection: false hides the schema */
  graphql: Readonly<{
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxDirectives: number;
    maxCost: number;
    maxBodyBytes: number;
    introspection: boolean;
  }>;
  /** Origins whose pages may call /graphql (CORS); empty: none but the gateway's own */
  corsOrigins: readonly string[];
  /** Per API key (the admin key too), per browser access token, per org on the webhook and OAuth routes */
  rateLimits: Readonly<{
    apiKey: RateLimit;
    accessToken: RateLimit;
    webhook: RateLimit;
    oauthRedirect: RateLimit;
  }>;
}>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment into a frozen Config; reports every problem at once, naming each variable. */
export function loadConfig(env: Env): Config {
  // An empty string means "unset", so `FOO=` in a .env file falls back to the default.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = envSchema.safeParse(cleaned);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  // Checked by hand so that it is reported together with every other problem.
  if (cleaned.DATABASE_URL && !cleaned.ENCRYPTION_KEY) {
    problems.push(
      "ENCRYPTION_KEY: is required when DATABASE_URL is set (32 bytes, base64: openssl rand -base64 32)",
    );
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir: path.resolve(e.DATA_DIR),
    redisUrl: e.REDIS_URL ?? null,
    encryptionKey: e.ENCRYPTION_KEY ? Buffer.from(e.ENCRYPTION_KEY, "base64") : null,
    adminApiKey: e.ADMIN_API_KEY ?? null,
    stripe: Object.freeze({
      apiUrl: e.STRIPE_API_URL,
      connectUrl: e.STRIPE_CONNECT_URL,
      marketplaceUrl: e.STRIPE_MARKETPLACE_URL,
    }),
    syncIntervalSeconds: e.SYNC_INTERVAL_SECONDS,
    backfillsAtOnce: e.SYNC_BACKFILLS_AT_ONCE,
    changeRetentionDays: e.CHANGE_RETENTION_DAYS,
    webhooks: Object.freeze({
      allowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS === "true",
      disableAfterDays: e.WEBHOOK_DISABLE_AFTER_DAYS,
    }),
    logLevel: e.LOG_LEVEL,
    graphql: Object.freeze({
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      maxCost: e.GRAPHQL_MAX_COST,
      maxBodyBytes: e.GRAPHQL_MAX_BODY_BYTES,
      introspection: e.GRAPHQL_INTROSPECTION
        ? e.GRAPHQL_INTROSPECTION === "true"
        : e.NODE_ENV !== "production",
    }),
    corsOrigins: Object.freeze(e.CORS_ORIGINS ?? []),
    rateLimits: Object.freeze({
      apiKey: { burst: e.RATE_LIMIT_API_KEY_BURST, perSecond: e.RATE_LIMIT_API_KEY_PER_SECOND },
      accessToken: {
        burst: e.RATE_LIMIT_ACCESS_TOKEN_BURST,
        perSecond: e.RATE_LIMIT_ACCESS_TOKEN_PER_SECOND,
      },
      webhook: { burst: e.RATE_LIMIT_WEBHOOK_BURST, perSecond: e.RATE_LIMIT_WEBHOOK_PER_SECOND },
      oauthRedirect: { burst: e.RATE_LIMIT_OAUTH_BURST, perSecond: e.RATE_LIMIT_OAUTH_PER_SECOND },
    }),
  });
}
