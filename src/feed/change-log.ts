// The change log: every change the gateway applies — a synced object created, updated or deleted, a
// connection's lifecycle step — is one StripeChange row, numbered per org, written in the transaction of
// the change itself. Everything pushed out (live and resumed subscriptions, the org's webhook endpoints)
// reads it; Redis only rings the bell.
//
// Why a reader never sees sequence S and later finds a smaller one appear: every transaction that records
// a change of an org first takes the org's lock (`withChanges`: a transaction-scoped advisory lock on
// the org id), and holds it until it commits. Two writers of one org therefore run one after the other:
// the second takes its numbers only once the first has committed, so numbers are handed out in commit order, and a
// snapshot that shows a change shows every smaller number of its org too. This holds across instances
// (the lock is PostgreSQL's) and under the webhook group commit (a batch locks each of its orgs once, in
// key order, so two batches never wait on each other in a cycle). Taking the lock first — before any
// object row is written — is what keeps it free of deadlocks: no writer holds an object row of the org
// while it waits for the lock. (The webhook path takes it in its first statement, right after that
// statement's insert of its new event rows: only another delivery of the same event waits for those,
// and it waits in its own insert, before it has taken any lock.) The numbers themselves come from the org's ChangeCounter row, moved on
// in the statement that writes the changes, just before the commit.
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
type ChangeMessage = ChangesRecorded["changes"][number];

/** Collects a transaction's changes; they are numbered and written just before it commits. */
export type ChangeRecorder = { record(change: ChangeInput): void };

/**
 * The orgs' locks taken inside the work's first statement instead of a statement of their own (each
 * statement costs a round trip): a CTE the statement must reference, whose rows say nothing.
 */
export type OrgLock = {
  /**
   * `"name" AS (…)` for a WITH clause, its one parameter numbered `at`, and that parameter. The locks are
   * taken only once the CTE named `after` has run to its end (a data dependency, not the executor's
   * whim): every transaction that takes them this way does its other writes first, in the same order.
   */
  cte(name: string, at: number, after: string): { sql: string; param: string[] };
  /** Says the statement with the CTE has run. */
  taken(): void;
};

export type WithChangesOptions = {
  /**
   * The work takes the orgs' locks in its first statement (through `OrgLock`), after that statement's
   * own writes. Only for writes that no holder of an org's lock ever waits for: the event insert of
   * `applyStripeEvents`, whose new rows only another delivery of the same event waits for — in its own
   * insert, before it has taken any lock.
   */
  lockInFirstStatement?: true;
};

export type ChangeLogDeps = {
  db: Pick<Database, "prisma">;
  clock: Clock;
  pubsub: Pick<GatewayPubSub, "publish">;
};

/** A transaction waits for the org's other writers (one at a time per org); each of them is short. */
const TRANSACTION = { maxWait: 20_000, timeout: 20_000 } as const;

/**
 * Runs `work` in one transaction that may record changes of the given orgs (every org it may write
 * for: their locks are taken first). The changes are written in the same transaction, just before it
 * commits; once it has, they are announced (`changes:recorded`, and the live resources' topics).
 * A transaction that records nothing writes nothing to the log and announces nothing.
 */
export async function withChanges<T>(
  deps: ChangeLogDeps,
  orgIds: Iterable<string>,
  work: (tx: Transaction, changes: ChangeRecorder, lock: OrgLock) => Promise<T>,
  options: WithChangesOptions = {},
): Promise<{ result: T; changes: Change[] }> {
  const orgs = [...new Set(orgIds)];
  const { result, changes } = await deps.db.prisma.$transaction(async (tx) => {
    let locked = false;
    if (!options.lockInFirstStatement) {
      await tx.$executeRawUnsafe(`WITH ${lockCte("locks", 1, null)} SELECT count(*) FROM "locks"`, orgs);
      locked = true;
    }
    const pending: ChangeInput[] = [];
    const result = await work(
      tx,
      {
        record(change) {
          if (!orgs.includes(change.orgId))
            throw new Error(`change of org ${change.orgId} outside the orgs this transaction locked`);
          pending.push(change);
        },
      },
      {
        cte: (name, at, after) => ({ sql: lockCte(name, at, after), param: orgs }),
        taken: () => {
          locked = true;
        },
      },
    );
    if (!locked) throw new Error("withChanges: the work did not take the orgs' locks it said it would");
    return { result, changes: await writeChanges(tx, pending, deps.clock.now()) };
  }, TRANSACTION);
  announceChanges(deps, changes);
  return { result, changes };
}

/**
 * Each org's change-log lock: a transaction-scoped advisory lock on the org id (taking it writes
 * nothing), in key order so that two transactions of several orgs never wait on each other in a cycle.
 */
const lockCte = (name: string, at: number, after: string | null) =>
  `"${name}" AS MATERIALIZED (SELECT pg_advisory_xact_lock("key") IS NULL AS "taken" FROM (SELECT DISTINCT ` +
  `hashtextextended("org", ${LOCK_SEED}) AS "key" FROM unnest($${at}::text[]) AS "org" ORDER BY "key") AS "keys"` +
  `${after ? ` WHERE (SELECT count(*) FROM "${after}") >= 0` : ""})`;

/** Any fixed number: the advisory lock keys of org ids are hashextended(org id, this). */
const LOCK_SEED = 7_301_806;

/**
 * Numbers the transaction's changes after their orgs' last sequences and writes them, with the counters,
 * in one statement. Under the orgs' locks nobody else numbers meanwhile, and the counters' UPDATE reads
 * what the last transaction to hold a lock committed.
 */
async function writeChanges(tx: Transaction, pending: ChangeInput[], now: Date): Promise<Change[]> {
  if (pending.length === 0) return [];
  const byOrg = groupByOrg(pending);
  const ordered = [...byOrg].flatMap(([orgId, changes]) =>
    changes.map((change, index) => ({ orgId, position: index + 1, count: changes.length, change })),
  );
  // One array per column: a handful of parameters whatever the number of changes.
  const params = [
    ordered.map((row) => row.orgId),
    ordered.map((row) => row.position),
    ordered.map((row) => row.count),
    ordered.map((row) => row.change.connectionId),
    ordered.map((row) => row.change.type),
    ordered.map((row) => row.change.objectId),
    ordered.map((row) => row.change.stripeEventId ?? null),
    now,
  ];
  const counters = await tx.$queryRawUnsafe<{ orgId: string; lastSequence: bigint }[]>(
    `WITH "u" AS (SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) ` +
      `AS "u" ("orgId", "position", "count", "connectionId", "type", "objectId", "stripeEventId")), ` +
      `"counters" AS (INSERT INTO "ChangeCounter" ("orgId", "lastSequence") SELECT DISTINCT "orgId", "count" FROM "u" ` +
      `ON CONFLICT ("orgId") DO UPDATE SET "lastSequence" = "ChangeCounter"."lastSequence" + EXCLUDED."lastSequence" ` +
      `RETURNING "orgId", "lastSequence"), ` +
      `"rows" AS (INSERT INTO "StripeChange" ("orgId", "sequence", "connectionId", "type", "objectId", "stripeEventId", "occurredAt") ` +
      `SELECT "u"."orgId", "counters"."lastSequence" - "u"."count" + "u"."position", "u"."connectionId", "u"."type", "u"."objectId", "u"."stripeEventId", $8 ` +
      `FROM "u" JOIN "counters" ON "counters"."orgId" = "u"."orgId") ` +
      `SELECT "orgId", "lastSequence" FROM "counters"`,
    ...params,
  );
  const last = new Map(counters.map((row) => [row.orgId, BigInt(row.lastSequence)]));
  return ordered.map(
    ({ orgId, position, count, change }): Change => ({
      orgId,
      sequence: last.get(orgId)! - BigInt(count) + BigInt(position),
      connectionId: change.connectionId,
      type: change.type,
      objectId: change.objectId,
      stripeEventId: change.stripeEventId ?? null,
      occurredAt: now,
    }),
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

const toMessage = (change: Change): ChangeMessage => ({
  ...change,
  sequence: change.sequence.toString(),
  occurredAt: change.occurredAt.toISOString(),
});

export const fromMessage = (message: ChangeMessage): Change => ({
  ...message,
  sequence: BigInt(message.sequence),
  occurredAt: new Date(message.occurredAt),
});
