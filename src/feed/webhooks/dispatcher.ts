// Sends the org's deliveries: schedules new changes (schedule-deliveries.ts), claims due deliveries with a
// lease on each row — so two instances never send the same attempt at once — sends them, and records each
// attempt with the next one's time. A crash after a send and before its record leaves the lease to expire,
// and the delivery is sent again (at-least-once; the webhook-id lets the receiver drop the repeat).
//
// Each endpoint has its own few sending slots on each instance: a slow or dead endpoint fills its own,
// never another's. Work is found by the `changes:recorded` bell, by each finished attempt, and by a look
// at the database every `pollMs` (due retries, other instances' work, missed bells).
import { hostname } from "node:os";
import type { Clock } from "../../clock.ts";
import type { Database } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";
import type { SecretBox } from "../../orgs/secrets.ts";
import type { GatewayPubSub } from "../../pubsub.ts";
import type { TargetPolicy } from "./endpoint-url.ts";
import { secretContext } from "./endpoints.ts";
import { DEFAULT_RETRY_POLICY, nextAttemptAt, type RetryPolicy } from "./retry-schedule.ts";
import { scheduleNewChanges } from "./schedule-deliveries.ts";
import { type AttemptOutcome, createSender, type Sender } from "./send.ts";

export type DispatcherDeps = {
  db: Pick<Database, "prisma">;
  pubsub: Pick<GatewayPubSub, "listen">;
  logger: Pick<Logger, "warn" | "info" | "debug">;
  clock: Clock;
  secrets: Pick<SecretBox, "open">;
};

export type DispatcherOptions = {
  policy: TargetPolicy;
  /** WEBHOOK_DISABLE_AFTER_DAYS: an endpoint failing this long is disabled */
  disableAfterMs: number;
  /** CHANGE_RETENTION_DAYS: finished deliveries older than this are pruned (hourly) */
  retentionDays: number;
  retry?: RetryPolicy;
  /** One attempt's whole exchange (connect, send, answer) */
  timeoutMs?: number;
  /** How long a claimed delivery is this instance's: longer than an attempt can take */
  leaseMs?: number;
  pollMs?: number;
  /** Deliveries in flight at once per endpoint, on this instance */
  perEndpoint?: number;
  /** Deliveries in flight at once on this instance, all endpoints together */
  maxInFlight?: number;
  /** Sends attempts (tests put a stand-in between the gateway and the network) */
  sender?: Sender;
};

export type WebhookDispatcher = {
  /** Starts sending (the serving processes); until then deliveries are only stored. */
  start(): void;
  /** Looks for work now (a mutation created an endpoint or scheduled deliveries). */
  wake(): void;
  /** Resolves once no look for work is running and nothing is in flight (tests). */
  idle(): Promise<void>;
  /** Stops; attempts in flight are cut off and their leases released, so another instance sends them. */
  close(): Promise<void>;
};

type Claimed = {
  id: string;
  endpointId: string;
  messageId: string;
  payload: string;
  attemptCount: number;
  createdAt: Date;
  leaseUntil: Date;
};

const PRUNE_EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Drops deliveries finished (succeeded or given up) longer ago than the change log keeps changes. */
async function pruneDeliveries(deps: Pick<DispatcherDeps, "db" | "clock">, retentionDays: number) {
  const cutoff = new Date(deps.clock.now().getTime() - retentionDays * DAY_MS);
  return deps.db.prisma.webhookDelivery.deleteMany({
    where: { nextAttemptAt: null, createdAt: { lt: cutoff } },
  });
}

type Target = { url: string; secrets: string[]; previousUntil: Date | null };

type Lane = { target: Target; queue: Claimed[]; sending: number };

export function createWebhookDispatcher(deps: DispatcherDeps, options: DispatcherOptions): WebhookDispatcher {
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const leaseMs = options.leaseMs ?? 60_000;
  const perEndpoint = options.perEndpoint ?? 8;
  const maxInFlight = options.maxInFlight ?? 256;
  const owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  /** A claimed delivery is sent only with this much of its lease left (an attempt's whole time). */
  const leaseMargin = Math.min(timeoutMs, leaseMs / 2);
  const sender = options.sender ?? createSender({ policy: options.policy, timeoutMs });
  /** Per endpoint: what this instance has claimed and not yet sent, and how many it is sending. */
  const lanes = new Map<string, Lane>();
  const sending = new Set<Promise<void>>();
  const abort = new AbortController();
  let total = 0;
  let looking: Promise<void> | null = null;
  let lookAgain = false;
  /** New changes may wait to be scheduled (a bell, the poll, a mutation): the next look schedules first. */
  let changesWaiting = true;
  /**
   * The orgs with an enabled endpoint, as of the last poll: a bell of any other org wakes nothing, so an
   * org without endpoints costs its writes no statement here. (An endpoint created since is found by the
   * next poll, which schedules whatever its org changed meanwhile.)
   */
  let endpointOrgs = new Set<string>();
  let started = false;
  let closed = false;
  let timer: ReturnType<typeof setInterval> | null = null;
  let pruner: ReturnType<typeof setInterval> | null = null;
  let stopListening: (() => void) | null = null;

  /** Looks for work: new changes to schedule (`changes`), and due deliveries to claim. */
  function wake(changes = true) {
    if (changes) changesWaiting = true;
    if (!started || closed) return;
    if (looking) {
      lookAgain = true;
      return;
    }
    looking = (async () => {
      do {
        lookAgain = false;
        try {
          await lookForWork();
        } catch (error) {
          deps.logger.warn({ err: error }, "could not look for webhook deliveries");
        }
      } while (lookAgain && !closed);
    })().finally(() => {
      looking = null;
    });
  }

  async function lookForWork() {
    const now = deps.clock.now();
    if (changesWaiting) {
      changesWaiting = false;
      await scheduleNewChanges(deps, now);
    }
    if (total >= maxInFlight) return;
    const endpoints = await deps.db.prisma.$queryRawUnsafe<{ endpointId: string }[]>(
      `SELECT DISTINCT d."endpointId" FROM "WebhookDelivery" d JOIN "WebhookEndpoint" e ON e."id" = d."endpointId" ` +
        `WHERE e."enabled" AND d."nextAttemptAt" <= $1 AND (d."leaseUntil" IS NULL OR d."leaseUntil" < $1)`,
      now,
    );
    for (const { endpointId } of endpoints) {
      const lane = lanes.get(endpointId);
      // Claimed ahead, a batch of its sending slots at a time (one statement for many deliveries), up to
      // twice its slots, so that a finished attempt starts the next at once.
      const room = 2 * perEndpoint - (lane ? lane.sending + lane.queue.length : 0);
      if (room < perEndpoint || closed) continue;
      const claimed = await claim(endpointId, room, now);
      if (claimed.length === 0) continue;
      const target = await targetOf(endpointId, now);
      if (!target) {
        await release(claimed.map((delivery) => delivery.id));
        continue;
      }
      const current = lanes.get(endpointId) ?? { target, queue: [], sending: 0 };
      current.target = target;
      current.queue.push(...claimed);
      lanes.set(endpointId, current);
      sendNext(endpointId);
    }
  }

  /** Every pollMs: which orgs have endpoints, then a look for work (due retries, others' work, lost bells). */
  function poll() {
    if (!started || closed) return;
    deps.db.prisma.webhookEndpoint
      .findMany({ where: { enabled: true }, distinct: ["orgId"], select: { orgId: true } })
      .then(
        (rows) => {
          endpointOrgs = new Set(rows.map((row) => row.orgId));
        },
        (error) => deps.logger.warn({ err: error }, "could not read the webhook endpoints"),
      )
      .finally(() => {
        if (endpointOrgs.size > 0) wake();
      });
  }

  /** Fills the endpoint's sending slots from what it has claimed. */
  function sendNext(endpointId: string) {
    const lane = lanes.get(endpointId);
    if (!lane) return;
    while (lane.sending < perEndpoint && total < maxInFlight && lane.queue.length > 0 && !closed) {
      const delivery = lane.queue.shift()!;
      // Waited so long that its lease could end before the attempt does: another instance may take it
      // then, so this one lets it go instead of sending it twice at once.
      if (deps.clock.now().getTime() + leaseMargin >= delivery.leaseUntil.getTime()) {
        release([delivery.id]).catch(() => {});
        continue;
      }
      lane.sending += 1;
      total += 1;
      const attempt = attemptOnce(delivery, lane)
        .catch((error) =>
          deps.logger.warn({ err: error, deliveryId: delivery.id }, "webhook attempt failed to run"),
        )
        .finally(() => {
          lane.sending -= 1;
          total -= 1;
          sending.delete(attempt);
          sendNext(endpointId);
          // A slot of the instance-wide limit is free: another endpoint's claimed deliveries may wait for it.
          for (const other of lanes.keys()) if (total < maxInFlight && other !== endpointId) sendNext(other);
          if (lane.sending === 0 && lane.queue.length === 0) lanes.delete(endpointId);
          // Room for another batch: claim more (without scheduling, which a bell or the poll asks for).
          if (lane.sending + lane.queue.length <= perEndpoint) wake(false);
        });
      sending.add(attempt);
    }
  }

  /** Up to `room` of the endpoint's due deliveries, oldest due first, leased to this instance. */
  function claim(endpointId: string, room: number, now: Date) {
    return deps.db.prisma.$queryRawUnsafe<Claimed[]>(
      `UPDATE "WebhookDelivery" SET "leaseOwner" = $2, "leaseUntil" = $3 WHERE "id" IN (` +
        `SELECT "id" FROM "WebhookDelivery" WHERE "endpointId" = $1 AND "nextAttemptAt" <= $4 ` +
        `AND ("leaseUntil" IS NULL OR "leaseUntil" < $4) ORDER BY "nextAttemptAt", "sequence" LIMIT $5 ` +
        `FOR UPDATE SKIP LOCKED) ` +
        `RETURNING "id", "endpointId", "messageId", "payload", "attemptCount", "createdAt", "leaseUntil"`,
      endpointId,
      owner,
      new Date(now.getTime() + leaseMs),
      now,
      room,
    );
  }

  /** Where the endpoint's deliveries go now, and the secrets that sign them (null: disabled meanwhile). */
  async function targetOf(endpointId: string, now: Date): Promise<Target | null> {
    const endpoint = await deps.db.prisma.webhookEndpoint.findUnique({ where: { id: endpointId } });
    if (!endpoint?.enabled) return null;
    const context = secretContext(endpoint.id);
    const secrets = [deps.secrets.open(endpoint.secretCiphertext, context)];
    if (
      endpoint.previousSecretCiphertext &&
      endpoint.previousSecretUntil &&
      endpoint.previousSecretUntil > now
    )
      secrets.push(deps.secrets.open(endpoint.previousSecretCiphertext, context));
    return { url: endpoint.url, secrets, previousUntil: endpoint.previousSecretUntil };
  }

  async function attemptOnce(delivery: Claimed, lane: Lane) {
    const at = deps.clock.now();
    const { target } = lane;
    // A rotated secret's grace period may end while the deliveries claimed with it wait.
    const secrets =
      target.previousUntil && target.previousUntil <= at ? target.secrets.slice(0, 1) : target.secrets;
    const outcome = await sender.send(
      { url: target.url, messageId: delivery.messageId, body: delivery.payload, secrets, at },
      abort.signal,
    );
    // Cut off by close(): not an attempt the endpoint failed; the lease goes, another instance sends it.
    if (abort.signal.aborted && !outcome.delivered) return release([delivery.id]);
    const stillEnabled = await record(delivery, outcome, at);
    // Disabled by this answer: what it had claimed waits, unsent, until it is enabled again.
    if (!stillEnabled) await release(lane.queue.splice(0).map((queued) => queued.id));
  }

  /**
   * The attempt, the delivery's new state and the endpoint's health, in one statement. Returns whether
   * the endpoint is still enabled.
   */
  async function record(delivery: Claimed, outcome: AttemptOutcome, at: Date): Promise<boolean> {
    const now = deps.clock.now();
    const attempts = delivery.attemptCount + 1;
    const next = outcome.delivered
      ? null
      : nextAttemptAt(retry, { createdAt: delivery.createdAt, attempts }, now, outcome.retryAfterMs);
    const status = outcome.delivered ? "SUCCEEDED" : next ? "FAILING" : "EXHAUSTED";
    const [endpoint] = await deps.db.prisma.$queryRawUnsafe<
      { enabled: boolean; disabledReason: string | null; wasEnabled: boolean }[]
    >(
      // The delivery may have gone meanwhile (its endpoint deleted): then there is nothing to record.
      `WITH "attempt" AS (INSERT INTO "WebhookAttempt" ("deliveryId", "at", "statusCode", "durationMs", "error") ` +
        `SELECT "id", $2, $3, $4, $5 FROM "WebhookDelivery" WHERE "id" = $1), ` +
        `"delivery" AS (UPDATE "WebhookDelivery" SET "status" = $6::"WebhookDeliveryStatus", "attemptCount" = $7, ` +
        `"nextAttemptAt" = $8, "leaseOwner" = NULL, "leaseUntil" = NULL WHERE "id" = $1 AND "leaseOwner" = $9), ` +
        `"before" AS (SELECT "enabled" FROM "WebhookEndpoint" WHERE "id" = $10) ` +
        `UPDATE "WebhookEndpoint" e SET ${endpointHealth} WHERE e."id" = $10 AND (NOT $11 OR e."failingSince" IS NOT NULL) ` +
        `RETURNING e."enabled", e."disabledReason", (SELECT "enabled" FROM "before") AS "wasEnabled"`,
      delivery.id,
      at,
      outcome.statusCode,
      outcome.durationMs,
      outcome.error,
      status,
      attempts,
      next,
      owner,
      delivery.endpointId,
      outcome.delivered,
      outcome.gone,
      now,
      new Date(now.getTime() - options.disableAfterMs),
    );
    if (endpoint?.wasEnabled && !endpoint.enabled)
      deps.logger.warn(
        { endpointId: delivery.endpointId, reason: endpoint.disabledReason },
        "webhook endpoint disabled",
      );
    return endpoint?.enabled ?? true;
  }

  /** Gives claimed deliveries back at once (they were not attempted). */
  async function release(ids: string[]) {
    await deps.db.prisma.webhookDelivery.updateMany({
      where: { id: { in: ids }, leaseOwner: owner },
      data: { leaseOwner: null, leaseUntil: null },
    });
  }

  return {
    start() {
      if (started || closed) return;
      started = true;
      stopListening = deps.pubsub.listen("changes:recorded", ({ orgId }) => {
        if (endpointOrgs.has(orgId)) wake();
      });
      timer = setInterval(poll, options.pollMs ?? 1000);
      timer.unref?.();
      const prune = () =>
        pruneDeliveries(deps, options.retentionDays).catch((error) =>
          deps.logger.warn({ err: error }, "could not prune webhook deliveries"),
        );
      void prune();
      pruner = setInterval(prune, PRUNE_EVERY_MS);
      pruner.unref?.();
      poll();
    },
    wake: () => poll(),
    async idle() {
      while (looking || sending.size > 0) {
        await looking;
        await Promise.allSettled([...sending]);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      stopListening?.();
      if (timer) clearInterval(timer);
      if (pruner) clearInterval(pruner);
      abort.abort();
      await looking;
      await Promise.allSettled([...sending]);
      const queued = [...lanes.values()].flatMap((lane) =>
        lane.queue.splice(0).map((delivery) => delivery.id),
      );
      if (queued.length > 0) await release(queued).catch(() => {});
      sender.close();
    },
  };
}

/**
 * The endpoint after an attempt ($11 delivered, $12 410 Gone, $13 now, $14 now minus the disable
 * period): a success ends its run of failures; a failure starts one (or continues it), and a 410 or a
 * run as long as the disable period disables it, saying why. A success of a healthy endpoint writes nothing.
 */
const endpointHealth =
  `"failingSince" = CASE WHEN $11 THEN NULL ELSE COALESCE(e."failingSince", $13) END, ` +
  `"enabled" = e."enabled" AND ($11 OR NOT ($12 OR COALESCE(e."failingSince", $13) <= $14)), ` +
  `"disabledReason" = CASE WHEN NOT e."enabled" OR $11 THEN e."disabledReason" ` +
  `WHEN $12 THEN '410 Gone from the endpoint: it asked not to be called again' ` +
  `WHEN COALESCE(e."failingSince", $13) <= $14 THEN 'failing since ' || to_char(COALESCE(e."failingSince", $13), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' (WEBHOOK_DISABLE_AFTER_DAYS)' ` +
  `ELSE e."disabledReason" END, "updatedAt" = $13`;
