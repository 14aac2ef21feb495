// The environment every gateway of the run gets: loopback only, production mode, a private database,
// and rate limits far above what the run sends (the run measures faults and abuse handling, not the
// limiter; the limiter's own tests cover it).
import { randomBytes } from "node:crypto";

export const ADMIN_KEY = `reliability-admin-${randomBytes(16).toString("hex")}`;
export const ENCRYPTION_KEY = randomBytes(32);

const HIGH = "1000000";
const RATE_LIMITS = Object.fromEntries(
  ["API_KEY", "ACCESS_TOKEN", "WEBHOOK", "OAUTH"].flatMap((name) => [
    [`RATE_LIMIT_${name}_BURST`, HIGH],
    [`RATE_LIMIT_${name}_PER_SECOND`, HIGH],
  ]),
);

export function gatewayEnv(options: {
  databaseUrl: string;
  redisUrl?: string;
  stripeUrl: string;
  logLevel: string;
}) {
  return {
    NODE_ENV: "production",
    PUBLIC_URL: "http://127.0.0.1",
    DATABASE_URL: options.databaseUrl,
    ENCRYPTION_KEY: ENCRYPTION_KEY.toString("base64"),
    ADMIN_API_KEY: ADMIN_KEY,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    STRIPE_API_URL: options.stripeUrl,
    STRIPE_CONNECT_URL: options.stripeUrl,
    STRIPE_MARKETPLACE_URL: options.stripeUrl,
    LOG_LEVEL: options.logLevel,
    ...RATE_LIMITS,
  };
}
