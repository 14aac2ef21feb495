// The run's sizes and deadlines; each can be set in the environment (RELIABILITY_GRAPHQL_REQUESTS=500 …).
const num = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

export const settings = {
  /** Seed of every random choice (fast-check): the same seed sends the same mutations and documents */
  seed: num("RELIABILITY_SEED", 13),
  /** Mutated webhook deliveries (headers, bytes, framing), and validly re-signed mutated bodies */
  webhookMutations: num("RELIABILITY_WEBHOOK_MUTATIONS", 4000),
  resignedMutations: num("RELIABILITY_RESIGNED_MUTATIONS", 1000),
  /** Property-based GraphQL requests */
  graphqlRequests: num("RELIABILITY_GRAPHQL_REQUESTS", 3000),
  /** Requests in flight at once in the two fuzzing scenarios */
  concurrency: num("RELIABILITY_CONCURRENCY", 8),
  /** Webhooks per second of the outage scenarios */
  webhookRate: num("RELIABILITY_WEBHOOK_RATE", 20),
  postgresDownSeconds: num("RELIABILITY_PG_DOWN_SECONDS", 30),
  redisDownSeconds: num("RELIABILITY_REDIS_DOWN_SECONDS", 10),
  /** Payouts (and charges per payout) of the account whose backfill is killed */
  crashPayouts: num("RELIABILITY_CRASH_PAYOUTS", 250),
  crashCharges: num("RELIABILITY_CRASH_CHARGES", 6),
  /** First ports tried for the private PostgreSQL and Redis (the next free one is taken) */
  postgresPort: num("RELIABILITY_PG_PORT", 5439),
  redisPort: num("RELIABILITY_REDIS_PORT", 6390),
  /** The gateways' pino level: every line is scanned for secrets */
  logLevel: process.env.RELIABILITY_LOG_LEVEL || "debug",
  /** Scenarios to run, e.g. "1,2" (default all; the others are reported as not run) */
  only: new Set((process.env.RELIABILITY_ONLY || "1,2,3,4,5,6").split(",").map((item) => item.trim())),
  /** The whole run is stopped (children killed, partial report written) after this many seconds */
  runDeadlineSeconds: num("RELIABILITY_DEADLINE_SECONDS", 600),
} as const;
