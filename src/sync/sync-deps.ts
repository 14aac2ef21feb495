import type { Clock } from "../clock.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import type { StripeApi } from "../stripe/api.ts";

/** What sync needs: the database, Stripe reads within each connection's budget, and a way to announce. */
export type SyncDeps = {
  config: { syncIntervalSeconds: number; backfillsAtOnce: number };
  db: Database;
  clock: Clock;
  logger: Logger;
  pubsub: GatewayPubSub;
  stripeApi: StripeApi;
};

/** The interactive transaction an event is applied in (a change-log transaction). */
export type { Transaction as Writer } from "../feed/change-log.ts";
