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
    const last = await lockCounters(tx, orgs);
    const pending: ChangeInput[] = [];
    const result = await work(tx, {
      record(change) {
        if (!orgs.includes(change.orgId))
          throw new Error(`change of org ${change.orgId} outside the orgs this transaction locked`);
        pending.push(change);
      },
    });
    return { result, changes: await writeChanges(tx, last, pending, deps.clock.now()) };
  }, TRANSACTION);
  announceChanges(deps, changes);
  return { result, changes };
}

/** Locks the orgs' counters in org id order (creating those that do not exist yet); their last sequences. */
async function lockCounters(tx: Transaction, orgs: string[]): Promise<Map<string, bigint>> {
  if (orgs.length === 0) return new Map();
  const lock = async () => {
    const rows = await tx.$queryRawUnsafe<{ orgId: string; lastSequence: bigint }[]>(
      `SELECT "orgId", "lastSequence" FROM "ChangeCounter" WHERE "orgId" IN (${placeholders(orgs.length)}) ORDER BY "orgId" FOR UPDATE`,
      ...orgs,
    );
    return new Map(rows.map((row) => [row.orgId, BigInt(row.lastSequence)]));
  };
  const locked = await lock();
  if (locked.size === orgs.length) return locked;
  // An org's first change: its counter row is made here (a concurrent maker waits on the unique key).
  const missing = orgs.filter((org) => !locked.has(org));
  await tx.$executeRawUnsafe(
    `INSERT INTO "ChangeCounter" ("orgId") VALUES ${missing.map((_, i) => `($${i + 1})`).join(", ")} ON CONFLICT DO NOTHING`,
    ...missing,
  );
  return lock();
}

/**
 * Numbers the transaction's changes after their orgs' last sequences (read under the lock, so nobody else
 * numbers meanwhile) and writes them and the counters in one statement.
 */
async function writeChanges(
  tx: Transaction,
  last: ReadonlyMap<string, bigint>,
  pending: ChangeInput[],
  now: Date,
): Promise<Change[]> {
  if (pending.length === 0) return [];
  const byOrg = groupByOrg(pending);
  const rows = [...byOrg].flatMap(([orgId, changes]) =>
    changes.map(
      (change, index): Change => ({
        orgId,
        sequence: last.get(orgId)! + BigInt(index) + 1n,
        connectionId: change.connectionId,
        type: change.type,
        objectId: change.objectId,
        stripeEventId: change.stripeEventId ?? null,
        occurredAt: now,
      }),
    ),
  );
  const params: unknown[] = [];
  const counters = [...byOrg].map(([orgId, changes]) => {
    params.push(orgId, last.get(orgId)! + BigInt(changes.length));
    return `($${params.length - 1}::text, $${params.length}::bigint)`;
  });
  const values = rows.map((row) => {
    const at = params.length;
    params.push(row.orgId, row.sequence, row.connectionId, row.type, row.objectId, row.stripeEventId, now);
    return `(${Array.from({ length: 7 }, (_, i) => `$${at + i + 1}`).join(", ")})`;
  });
  await tx.$executeRawUnsafe(
    `WITH "counters" AS (UPDATE "ChangeCounter" "c" SET "lastSequence" = "n"."last" FROM (VALUES ${counters.join(", ")}) "n" ("orgId", "last") WHERE "c"."orgId" = "n"."orgId") ` +
      `INSERT INTO "StripeChange" ("orgId", "sequence", "connectionId", "type", "objectId", "stripeEventId", "occurredAt") VALUES ${values.join(", ")}`,
    ...params,
  );
  return rows;
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
