import Stripe from "stripe";
import { deauthorizeInTransaction, publishConnection } from "../connections/status.ts";
import { delegateOf } from "../db/delegate.ts";
import { type ChangeRecorder, type OrgLock, withChanges } from "../feed/change-log.ts";
import type { StripeConnection } from "../generated/prisma/client.ts";
import { readVersion } from "../stripe/api.ts";
import {
  CONNECTION_EVENT_TYPES,
  idOf,
  isDeletionEvent,
  perParentListsAfter,
  RESOURCE_BY_KEY,
  type ResourceSpec,
  resourceForEvent,
  retrievePathOf,
  rowId,
  type SingletonSpec,
  type StripeObject,
  singletonForEvent,
  unixToDate,
} from "../stripe/resources.ts";
import { listChildrenOf } from "./per-parent.ts";
import { readSingleton, recordSingletonChange, singletonVersionIs, storeSingleton } from "./singletons.ts";
import { recordObjectChanges, storeObjects } from "./store-objects.ts";
import type { SyncDeps, Writer } from "./sync-deps.ts";
import { markObjectDeleted, upsertObjects } from "./upsert.ts";

/** A v1 snapshot event, as Stripe sends it by webhook and lists it at /v1/events. */
export type StripeEventPayload = {
  id: string;
  type: string;
  created: number;
  livemode: boolean;
  account?: string | null;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
};

export type ApplyResult = {
  outcome: "applied" | "duplicate" | "ignored";
  /** Slow work (fetches from Stripe) the caller runs now, or after acknowledging a webhook. */
  followUp: (() => Promise<void>) | null;
};

type Connection = Pick<StripeConnection, "id" | "orgId" | "livemode" | "stripeAccountId">;
type Publish = (deps: Pick<SyncDeps, "pubsub">) => void;
/** The object a tie is about: one of the registry's resources or singletons. */
type Tie = { resource: ResourceSpec } | { singleton: SingletonSpec };
type Applied = { outcome: "applied" | "ignored"; tie: Tie | null; publish: Publish[] };

/** One event to apply, for the connection it was routed to. */
export type EventDelivery = {
  connection: Connection;
  event: StripeEventPayload;
  source: "webhook" | "poll";
};

/**
 * The one writer of synced objects after backfill; webhooks and the events poller both call it. In one
 * transaction the event is stored (once per event id and org), its object written and the event marked
 * applied: all of it or nothing, so an event that is stored is applied, and one that is not is taken
 * again when Stripe or the poller offers it again. Subscribers hear of it after the commit. An object
 * only moves forward in time: an older event changes nothing; one of the same second as what is stored
 * is settled by reading the object from Stripe (the follow-up, after the commit).
 */
export async function applyStripeEvent(
  deps: SyncDeps,
  connection: Connection,
  event: StripeEventPayload,
  source: "webhook" | "poll",
): Promise<ApplyResult> {
  const [result] = await applyStripeEvents(deps, [{ connection, event, source }]);
  return result!;
}

/**
 * Applies several events in one transaction (group commit: see event-batcher.ts), with exactly the result
 * of applying them one by one in the order given: each is stored once per event id and org (a second
 * delivery of the same id, in the batch or before it, is a duplicate), and each object moves forward in
 * time by the same version guard. The statements are per batch, not per event: one insert of every event
 * (learning which are new), one upsert per resource and connection for the objects the batch changes once;
 * what cannot be written in bulk with the same result as one by one — an object with several events in the
 * batch, singletons, deauthorizations, versions that did not win — is applied one event at a time, in
 * order, in the same transaction. All of it commits or none of it does; subscribers hear of each applied
 * event after the commit, in the order given. Results are in the order of `deliveries`.
 */
export async function applyStripeEvents(
  deps: SyncDeps,
  deliveries: readonly EventDelivery[],
): Promise<ApplyResult[]> {
  if (deliveries.length === 0) return [];
  const rowIds = deliveries.map(({ connection, event }) => `${connection.orgId}:${event.id}`);
  // The first delivery of an event id is the one that may be new; any later one in the batch is a duplicate.
  const firsts: number[] = [];
  const seen = new Set<string>();
  for (const [index, id] of rowIds.entries()) {
    if (seen.has(id)) continue;
    seen.add(id);
    firsts.push(index);
  }
  const orgIds = deliveries.map(({ connection }) => connection.orgId);
  // The change log (feed/change-log.ts) numbers what the batch changes, in its transaction.
  const { result: applied } = await withChanges(
    deps,
    orgIds,
    async (tx, changes, lock) => {
      const now = deps.clock.now();
      const stored = await storeEvents(
        tx,
        lock,
        firsts.map((index) => deliveries[index]!),
        now,
      );
      const fresh = firsts.filter((index) => stored.has(rowIds[index]!));
      const results = await applyObjects(
        tx,
        changes,
        deps,
        fresh.map((index) => deliveries[index]!),
        now,
      );
      const outcomes = new Map<number, Applied>(fresh.map((index, at) => [index, results[at]!]));
      // Work left for after the commit (reads from Stripe): the event counts as applied once it is done,
      // and until then the poller finds it unfinished and does it again — it is never lost to a failure.
      // Events that always have some were stored unfinished; a tie is known only now.
      const ties = fresh.filter(
        (index) => outcomes.get(index)!.tie && !needsFollowUp(deliveries[index]!.event),
      );
      if (ties.length > 0)
        await markUnfinished(
          tx,
          ties.map((index) => rowIds[index]!),
        );
      return outcomes;
    },
    // The events' insert takes the orgs' locks too (one statement fewer): see WithChangesOptions.
    { lockInFirstStatement: true },
  );

  return deliveries.map(({ connection, event }, index) => {
    const outcome = applied.get(index);
    if (!outcome) return { outcome: "duplicate", followUp: null };
    deps.pubsub.publish("stripe-event:received", {
      orgId: connection.orgId,
      connectionId: connection.id,
      id: rowIds[index]!,
      type: event.type,
    });
    for (const publish of outcome.publish) publish(deps);
    if (!outcome.tie && !needsFollowUp(event)) return { outcome: outcome.outcome, followUp: null };
    return {
      outcome: outcome.outcome,
      followUp: () => finishEvent(deps, connection, event, outcome.tie),
    };
  });
}

const EVENT_COLUMNS = [
  "id",
  "orgId",
  "connectionId",
  "stripeId",
  "type",
  "account",
  "livemode",
  "created",
  "source",
  "raw",
  "receivedAt",
  "appliedAt",
] as const;

/**
 * Stores the events in one statement, each once per org and event id; returns the row ids of those that
 * were new (the others were stored before). An event whose application goes on past the transaction is
 * stored unfinished (no `appliedAt`).
 */
async function storeEvents(
  tx: Writer,
  lock: OrgLock,
  deliveries: EventDelivery[],
  now: Date,
): Promise<Set<string>> {
  // In id order, so that two transactions storing the same events take their row locks in the same order.
  const rows = deliveries
    .map(({ connection, event, source }) => ({
      id: `${connection.orgId}:${event.id}`,
      orgId: connection.orgId,
      connectionId: connection.id,
      stripeId: event.id,
      type: event.type,
      account: event.account ?? null,
      livemode: event.livemode,
      created: unixToDate(event.created),
      source,
      raw: JSON.stringify(event),
      receivedAt: now,
      appliedAt: needsFollowUp(event) ? null : now,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const params: unknown[] = [];
  const values = rows.map(
    (row) =>
      `(${EVENT_COLUMNS.map((column) => {
        params.push(row[column]);
        return column === "raw" ? `$${params.length}::jsonb` : `$${params.length}`;
      }).join(", ")})`,
  );
  const locks = lock.cte("locks", params.length + 1, "inserted");
  const inserted = await tx.$queryRawUnsafe<{ id: string | null }[]>(
    `WITH "inserted" AS (INSERT INTO "StripeEvent" (${EVENT_COLUMNS.map((column) => `"${column}"`).join(", ")}) ` +
      `VALUES ${values.join(", ")} ON CONFLICT DO NOTHING RETURNING "id"), ${locks.sql} ` +
      `SELECT "id" FROM "inserted" UNION ALL SELECT NULL FROM "locks"`,
    ...params,
    locks.param,
  );
  lock.taken();
  return new Set(inserted.flatMap((row) => (row.id === null ? [] : [row.id])));
}

async function markUnfinished(tx: Writer, eventRowIds: string[]) {
  await tx.$executeRawUnsafe(
    `UPDATE "StripeEvent" SET "appliedAt" = NULL WHERE "id" IN (${eventRowIds.map((_, i) => `$${i + 1}`).join(", ")})`,
    ...eventRowIds,
  );
}

/** Events whose application goes on past their transaction, whatever is stored. */
function needsFollowUp(event: StripeEventPayload): boolean {
  return perParentListsAfter(event.type).length > 0 || relatedObjects(event).length > 0;
}

/**
 * The part of an event that reads Stripe, after its transaction: settles a tie (two versions of the same
 * second cannot be ordered: the object as Stripe has it now decides), re-reads the objects it changed
 * without an event of their own, links a reconciled payout's transactions; then marks the event applied.
 */
async function finishEvent(
  deps: SyncDeps,
  connection: Connection,
  event: StripeEventPayload,
  tie: Tie | null,
) {
  const object = event.data.object;
  if (tie && "singleton" in tie) await readSingleton(deps, tie.singleton, connection, "not-older");
  else if (tie) await refetchObject(deps, tie.resource, connection, object);
  for (const { resource, id } of relatedObjects(event))
    await refetchObject(deps, resource, connection, { id });
  for (const children of perParentListsAfter(event.type))
    await listChildrenOf(deps, children, connection, object.id);
  await deps.db.prisma.stripeEvent.updateMany({
    where: { id: `${connection.orgId}:${event.id}`, appliedAt: null },
    data: { appliedAt: deps.clock.now() },
  });
}

/**
 * Finishes the connection's stored events whose follow-up did not complete (Stripe failed, the process
 * stopped): the poller calls it on every run. Whether it was a tie is not stored, so the object is read
 * again in any case — reading Stripe's current state is always right.
 */
export async function finishUnfinishedEvents(deps: SyncDeps, connection: Connection): Promise<number> {
  // Every poll asks (nearly always for nothing): one plain statement.
  const unfinished = await deps.db.sql<{ raw: unknown }>(
    `SELECT "raw" FROM "StripeEvent" WHERE "connectionId" = $1 AND "appliedAt" IS NULL ORDER BY "created"`,
    [connection.id],
  );
  for (const { raw } of unfinished) {
    const event = raw as unknown as StripeEventPayload;
    const resource = resourceForEvent(event.type);
    const singleton = singletonForEvent(event.type);
    const tie: Tie | null = resource ? { resource } : singleton?.sameSecond === "tie" ? { singleton } : null;
    await finishEvent(deps, connection, event, tie);
  }
  return unfinished.length;
}

/** Objects the event's object points at that changed with it, per the registry's `changesAlso`. */
function relatedObjects(event: StripeEventPayload): { resource: ResourceSpec; id: string }[] {
  const resource = resourceForEvent(event.type);
  return (resource?.changesAlso ?? []).flatMap(({ resource: key, field }) => {
    const id = idOf(event.data.object[field]);
    const target = RESOURCE_BY_KEY.get(key);
    return id && target ? [{ resource: target, id }] : [];
  });
}

/**
 * Applies the batch's new events, with the result of applying them one by one in order. An object that
 * only one event of the batch changes is written in bulk with the others of its resource (the upsert's
 * version guard is per row, so a row in a bulk statement ends as it would alone); the rest goes one event
 * at a time, in order. The two parts touch different rows, so which runs first changes nothing.
 */
async function applyObjects(
  tx: Writer,
  changes: ChangeRecorder,
  deps: SyncDeps,
  deliveries: EventDelivery[],
  now: Date,
): Promise<Applied[]> {
  const results: Applied[] = new Array(deliveries.length);
  const objectKey = ({ connection, event }: EventDelivery) => {
    const resource = resourceForEvent(event.type);
    return resource ? `${resource.key} ${connection.id} ${String(event.data.object?.id)}` : null;
  };
  const eventsPerObject = new Map<string, number>();
  for (const delivery of deliveries) {
    const key = objectKey(delivery);
    if (key) eventsPerObject.set(key, (eventsPerObject.get(key) ?? 0) + 1);
  }
  type Bulk = { resource: ResourceSpec; connection: Connection; deletion: boolean; members: number[] };
  const bulks = new Map<string, Bulk>();
  const oneByOne: number[] = [];
  for (const [index, delivery] of deliveries.entries()) {
    const key = objectKey(delivery);
    if (!key || eventsPerObject.get(key) !== 1) {
      oneByOne.push(index);
      continue;
    }
    const resource = resourceForEvent(delivery.event.type)!;
    const deletion = isDeletionEvent(resource, delivery.event.type);
    // Same columns in one statement: deletions carry `deleted`, other events leave it as stored.
    const group = `${resource.key} ${delivery.connection.id} ${deletion}`;
    let bulk = bulks.get(group);
    if (!bulk) {
      bulk = { resource, connection: delivery.connection, deletion, members: [] };
      bulks.set(group, bulk);
    }
    bulk.members.push(index);
  }
  for (const { resource, connection, deletion, members } of bulks.values()) {
    const upserted = await upsertObjects(
      tx,
      resource,
      connection,
      members.map((index) => versioned(deliveries[index]!.event, deletion)),
      now,
      { log: deps.logger },
    );
    for (const index of members) {
      const { event } = deliveries[index]!;
      results[index] = await settleObject(tx, changes, resource, connection, event, deletion, upserted, now);
    }
  }
  for (const index of oneByOne) {
    const { connection, event } = deliveries[index]!;
    results[index] = await applyObject(tx, changes, deps, connection, event, now);
  }
  return results;
}

function versioned(event: StripeEventPayload, deletion: boolean) {
  const versionAt = unixToDate(event.created);
  return { object: event.data.object, versionAt, ...(deletion ? { extra: { deleted: true } } : {}) };
}

/**
 * What became of an event's object once its upsert ran: a deletion is final even when the version is not
 * newer; a version that did not win but equals the stored one is a tie (a deletion too), settled after
 * the commit.
 */
async function settleObject(
  tx: Writer,
  changes: ChangeRecorder,
  resource: ResourceSpec,
  connection: Connection,
  event: StripeEventPayload,
  deletion: boolean,
  upserted: { written: Set<string>; changes: ReadonlyMap<string, "created" | "updated" | "deleted"> },
  now: Date,
): Promise<Applied> {
  const object = event.data.object;
  const change = upserted.changes.get(object.id);
  const deleted =
    !upserted.written.has(object.id) &&
    deletion &&
    (await markObjectDeleted(tx, resource, connection.id, object.id, now));
  const kind = deleted ? "deleted" : change;
  if (kind) recordObjectChanges(changes, resource, connection, new Map([[object.id, kind]]), event.id);
  // A deletion of the stored version's own second is a tie too: the flag is set, and which object is
  // Stripe's last (a canceled subscription stays listed with its cancellation) is read after the commit.
  const tie =
    !upserted.written.has(object.id) &&
    (await storedVersionEquals(tx, resource, connection, object.id, unixToDate(event.created)));
  return { outcome: "applied", tie: tie ? { resource } : null, publish: [] };
}

async function applyObject(
  tx: Writer,
  changes: ChangeRecorder,
  deps: SyncDeps,
  connection: Connection,
  event: StripeEventPayload,
  now: Date,
): Promise<Applied> {
  const object = event.data.object;
  const versionAt = unixToDate(event.created);
  const resource = resourceForEvent(event.type);
  if (resource) {
    const deletion = isDeletionEvent(resource, event.type);
    const upserted = await upsertObjects(tx, resource, connection, [versioned(event, deletion)], now, {
      log: deps.logger,
    });
    return settleObject(tx, changes, resource, connection, event, deletion, upserted, now);
  }
  const singleton = singletonForEvent(event.type);
  if (singleton) {
    const write = await storeSingleton(tx, singleton, connection, object, versionAt, now);
    recordSingletonChange(changes, singleton, connection, write, event.id);
    const tie =
      !write.written &&
      singleton.sameSecond === "tie" &&
      (await singletonVersionIs(tx, singleton, connection.id, versionAt));
    return { outcome: "applied", tie: tie ? { singleton } : null, publish: [] };
  }
  if ((CONNECTION_EVENT_TYPES as readonly string[]).includes(event.type)) {
    // account.application.deauthorized: the merchant removed the app's access.
    if (connection.stripeAccountId && connection.livemode !== null) {
      const disconnected = await deauthorizeInTransaction(
        tx,
        changes,
        now,
        {
          orgId: connection.orgId,
          stripeAccountId: connection.stripeAccountId,
          livemode: connection.livemode,
        },
        event.id,
      );
      return {
        outcome: "applied",
        tie: null,
        publish: disconnected ? [(d) => publishConnection(d, disconnected)] : [],
      };
    }
  }
  return { outcome: "ignored", tie: null, publish: [] };
}

async function storedVersionEquals(
  tx: Writer,
  resource: ResourceSpec,
  connection: Connection,
  stripeId: string,
  versionAt: Date,
): Promise<boolean> {
  const delegate = delegateOf<{
    findUnique(args: object): Promise<{ lastEventAt: Date | null } | null>;
  }>(tx, resource.model);
  const row = await delegate.findUnique({
    where: { id: rowId(connection.id, stripeId) },
    select: { lastEventAt: true },
  });
  return row?.lastEventAt?.getTime() === versionAt.getTime();
}

async function refetchObject(
  deps: SyncDeps,
  resource: ResourceSpec,
  connection: Connection,
  known: StripeObject,
) {
  const stripeId = known.id;
  const path = retrievePathOf(resource, known);
  if (!path) return;
  const readAt = readVersion(deps.clock.now());
  let object: StripeObject;
  try {
    object = await deps.stripeApi.get(connection, path);
  } catch (error) {
    // Gone from Stripe (past its retention) or not granted: final answers, nothing to settle with.
    const final =
      error instanceof Stripe.errors.StripePermissionError ||
      (error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode === 404);
    if (!final) throw error;
    deps.logger.info(
      { connectionId: connection.id, stripeId },
      "object to read again is not readable at Stripe",
    );
    return;
  }
  if (object.deleted === true) {
    // Stripe answers a deleted object with a stub ({ id, deleted: true }): keep what was known of it.
    await withChanges(deps, [connection.orgId], async (tx, changes) => {
      if (await markObjectDeleted(tx, resource, connection.id, stripeId, deps.clock.now()))
        recordObjectChanges(changes, resource, connection, new Map([[stripeId, "deleted"]]));
    });
    return;
  }
  await storeObjects(deps, resource, connection, [{ object, versionAt: readAt }], {
    replace: "not-older",
    log: deps.logger,
  });
}
