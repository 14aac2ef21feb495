// The change log: every change the gateway applies — a synced object created, updated or deleted, a
// connection's lifecycle step — is one StripeChange row, numbered per org, written in the transaction of
// the change itself. Everything pushed out (live and resumed subscriptions, the org's webhook endpoints)
// reads it; Redis only rings the bell.
//
// Why a reader never sees sequence S and later finds a smaller one appear: every transaction that records
// a change of an org first locks the org's ChangeCounter row (`withChanges`), and holds it until it
// commits. Two writers of one org therefore run their numbered part one after the other: the second
// takes its numbers only once the first has committed, so numbers are handed out in commit order, and a
// snapshot that shows a change shows every smaller number of its org too. This holds across instances
// (the lock is PostgreSQL's) and under the webhook group commit (a batch locks each of its orgs once, in
// org id order, so two batches never wait on each other in a cycle). Taking the lock first — before any
// object row is written — is what keeps it free of deadlocks: no writer holds an object row of the org
// while it waits for the counter.
import type { Clock } from "../clock.ts";
import type { Database } from "../db/client.ts";
import { type ChangesRecorded, type GatewayPubSub, objectTopic } from "../pubsub.ts";
import { RESOURCES, type ResourceSpec, rowId } from "../stripe/resources.ts";

/** What a change-recording transaction runs statements with: the interactive transaction. */
export type Transaction = Parameters<Parameters<Database["prisma"]["$transaction"]>[0]>[0];

/** A change as a writer describes it; the log numbers it. */
export type ChangeInput = {
  orgId: string;
  connectionId: string | null;
  /** "<stripe object>.created|updated|deleted" or "connection.<lifecycle>" */
  type: string;
  /** The Stripe id of the object (the connection's row id for connection.* changes) */
  objectId: string | null;
  stripeEventId?: string | null;
};

/** One numbered change, as stored and as every consumer sees it. */
export type Change = {
  orgId: string;
  sequence: bigint;
  connectionId: string | null;
  type: string;
  objectId: string | null;
  stripeEventId: string | null;
  occurredAt: Date;
};

/** A change in transit between instances (JSON through Redis): the sequence as a decimal string. */
export type ChangeMessage = ChangesRecorded["changes"][number];

/** Collects a transaction's changes; they are numbered and written just before it commits. */
export type ChangeRecorder = { record(change: ChangeInput): void };

export type ChangeLogDeps = {
  db: Pick<Database, "prisma">;
  clock: Clock;
  pubsub: Pick<GatewayPubSub, "publish">;
};

/** A transaction waits for the org's other writers (one at a time per org); each of them is short. */
const TRANSACTION = { maxWait: 20_000, timeout: 20_000 } as const;

/**
 * Runs `work` in one transaction that may record changes of the given orgs (every org it may write
 * for: the counters are locked first). The changes are written in the same transaction; once it has
 * committed, they are announced (`changes:recorded`, and the object topics through `afterCommit`).
 * A transaction that records nothing writes nothing to the log and announces nothing.
 */
export async function withChanges<T>(
  deps: ChangeLogDeps,
  orgIds: Iterable<string>,
  work: (tx: Transaction, changes: ChangeRecorder) => Promise<T>,
): Promise<{ result: T; changes: Change[] }> {
  const orgs = [...new Set(orgIds)].sort();
  const { result, changes } = await deps.db.prisma.$transaction(async (tx) => {
    await lockCounters(tx, orgs);
    const pending: ChangeInput[] = [];
    const result = await work(tx, {
      record(change) {
        if (!orgs.includes(change.orgId))
          throw new Error(`change of org ${change.orgId} outside the orgs this transaction locked`);
        pending.push(change);
      },
    });
    return { result, changes: await writeChanges(tx, pending, deps.clock.now()) };
  }, TRANSACTION);
  announceChanges(deps, changes);
  return { result, changes };
}

/** Locks the orgs' counters in org id order, creating those that do not exist yet. */
async function lockCounters(tx: Transaction, orgs: string[]) {
  if (orgs.length === 0) return;
  const lock = () =>
    tx.$queryRawUnsafe<{ orgId: string }[]>(
      `SELECT "orgId" FROM "ChangeCounter" WHERE "orgId" IN (${placeholders(orgs.length)}) ORDER BY "orgId" FOR UPDATE`,
      ...orgs,
    );
  const locked = await lock();
  if (locked.length === orgs.length) return;
  // An org's first change: its counter row is made here (a concurrent maker waits on the unique key).
  const missing = orgs.filter((org) => !locked.some((row) => row.orgId === org));
  await tx.$executeRawUnsafe(
    `INSERT INTO "ChangeCounter" ("orgId") VALUES ${missing.map((_, i) => `($${i + 1})`).join(", ")} ON CONFLICT DO NOTHING`,
    ...missing,
  );
  await lock();
}

/**
 * Numbers and writes the transaction's changes in one statement: each org's counter moves on by its
 * count of changes, and its changes take the numbers in between, in the order they were recorded.
 */
async function writeChanges(tx: Transaction, pending: ChangeInput[], now: Date): Promise<Change[]> {
  if (pending.length === 0) return [];
  const byOrg = groupByOrg(pending);
  const params: unknown[] = [];
  const values: string[] = [];
  for (const [orgId, changes] of byOrg) {
    for (const [index, change] of changes.entries()) {
      const at = params.length;
      params.push(
        orgId,
        index + 1,
        changes.length,
        change.connectionId,
        change.type,
        change.objectId,
        change.stripeEventId ?? null,
        now,
      );
      values.push(
        `($${at + 1}::text, $${at + 2}::bigint, $${at + 3}::bigint, $${at + 4}::text, $${at + 5}::text, ` +
          `$${at + 6}::text, $${at + 7}::text, $${at + 8}::timestamp(3))`,
      );
    }
  }
  const inserted = await tx.$queryRawUnsafe<{ orgId: string; first: bigint }[]>(
    `WITH "v" ("orgId", "position", "count", "connectionId", "type", "objectId", "stripeEventId", "occurredAt") AS (VALUES ${values.join(", ")}), ` +
      `"counters" AS (UPDATE "ChangeCounter" "c" SET "lastSequence" = "c"."lastSequence" + "n"."count" ` +
      `FROM (SELECT DISTINCT "orgId", "count" FROM "v") "n" WHERE "c"."orgId" = "n"."orgId" RETURNING "c"."orgId", "c"."lastSequence"), ` +
      `"rows" AS (INSERT INTO "StripeChange" ("orgId", "sequence", "connectionId", "type", "objectId", "stripeEventId", "occurredAt") ` +
      `SELECT "v"."orgId", "counters"."lastSequence" - "v"."count" + "v"."position", "v"."connectionId", "v"."type", "v"."objectId", "v"."stripeEventId", "v"."occurredAt" ` +
      `FROM "v" JOIN "counters" ON "counters"."orgId" = "v"."orgId" RETURNING "orgId", "sequence") ` +
      `SELECT "orgId", min("sequence") AS "first" FROM "rows" GROUP BY "orgId"`,
    ...params,
  );
  const first = new Map(inserted.map((row) => [row.orgId, BigInt(row.first)]));
  return [...byOrg].flatMap(([orgId, changes]) =>
    changes.map(
      (change, index): Change => ({
        orgId,
        sequence: first.get(orgId)! + BigInt(index),
        connectionId: change.connectionId,
        type: change.type,
        objectId: change.objectId,
        stripeEventId: change.stripeEventId ?? null,
        occurredAt: now,
      }),
    ),
  );
}

/** After the commit: every instance's change feed hears of the new changes of each org. */
function announceChanges(deps: Pick<ChangeLogDeps, "pubsub">, changes: Change[]) {
  for (const [orgId, ofOrg] of groupByOrg(changes))
    deps.pubsub.publish("changes:recorded", { orgId, changes: ofOrg.map(toMessage) });
  // The per-resource subscriptions (payoutUpdated…) hear of the same changes, and of nothing else.
  for (const change of changes) {
    const resource = resourceOfChange(change.type);
    if (!resource?.graphql.live || !change.connectionId || !change.objectId) continue;
    deps.pubsub.publish(objectTopic(resource.object), {
      orgId: change.orgId,
      connectionId: change.connectionId,
      id: rowId(change.connectionId, change.objectId),
    });
  }
}

/** The change type of an object of a resource or singleton: `payout.updated`, `balance.updated`. */
export const objectChangeType = (object: string, kind: "created" | "updated" | "deleted") =>
  `${object}.${kind}`;

/** The resource a change is of (by its type's object name), if it is one of the registry's resources. */
export function resourceOfChange(type: string): ResourceSpec | undefined {
  const object = type.slice(0, type.lastIndexOf("."));
  return (RESOURCES as readonly ResourceSpec[]).find((resource) => resource.object === object);
}

function groupByOrg<T extends { orgId: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.orgId);
    if (group) group.push(item);
    else groups.set(item.orgId, [item]);
  }
  return groups;
}

export const toMessage = (change: Change): ChangeMessage => ({
  ...change,
  sequence: change.sequence.toString(),
  occurredAt: change.occurredAt.toISOString(),
});

export const fromMessage = (message: ChangeMessage): Change => ({
  ...message,
  sequence: BigInt(message.sequence),
  occurredAt: new Date(message.occurredAt),
});

const placeholders = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) => `$${from + i}`).join(", ");
