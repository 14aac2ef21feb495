import Stripe from "stripe";
import { deauthorizeInTransaction, publishConnection } from "../connections/status.ts";
import { delegateOf } from "../db/delegate.ts";
import type { Prisma, StripeConnection } from "../generated/prisma/client.ts";
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
import { publishObject } from "./publish.ts";
import { readSingleton, singletonVersionIs, storeSingleton } from "./singletons.ts";
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

/** Applying an event is a few short statements; waiting for the database's one writer may take longer. */
const TRANSACTION = { maxWait: 20_000, timeout: 20_000 } as const;

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
  const eventRowId = `${connection.orgId}:${event.id}`;
  const applied = await deps.db.prisma.$transaction(async (tx) => {
    const now = deps.clock.now();
    const stored = await tx.stripeEvent.createMany({
      data: [
        {
          id: eventRowId,
          orgId: connection.orgId,
          connectionId: connection.id,
          stripeId: event.id,
          type: event.type,
          account: event.account ?? null,
          livemode: event.livemode,
          created: unixToDate(event.created),
          source,
          raw: event as unknown as Prisma.InputJsonObject,
          receivedAt: now,
          appliedAt: now,
        },
      ],
      skipDuplicates: true,
    });
    if (stored.count === 0) return null;
    const applied = await applyObject(tx, deps, connection, event, now);
    // Work left for after the commit (reads from Stripe): the event counts as applied once it is done,
    // and until then the poller finds it unfinished and does it again — it is never lost to a failure.
    if (applied.tie || needsFollowUp(event))
      await tx.stripeEvent.update({ where: { id: eventRowId }, data: { appliedAt: null } });
    return applied;
  }, TRANSACTION);
  if (!applied) return { outcome: "duplicate", followUp: null };

  deps.pubsub.publish("stripe-event:received", {
    orgId: connection.orgId,
    connectionId: connection.id,
    id: eventRowId,
    type: event.type,
  });
  for (const publish of applied.publish) publish(deps);
  if (!applied.tie && !needsFollowUp(event)) return { outcome: applied.outcome, followUp: null };
  return { outcome: applied.outcome, followUp: () => finishEvent(deps, connection, event, applied.tie) };
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
  const unfinished = await deps.db.prisma.stripeEvent.findMany({
    where: { connectionId: connection.id, appliedAt: null },
    orderBy: { created: "asc" },
    select: { raw: true },
  });
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

async function applyObject(
  tx: Writer,
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
    const { written } = await upsertObjects(
      tx,
      resource,
      connection,
      [{ object, versionAt, ...(deletion ? { extra: { deleted: true } } : {}) }],
      now,
      { log: deps.logger },
    );
    const changed =
      written.has(object.id) ||
      (deletion && (await markObjectDeleted(tx, resource, connection.id, object.id, now)));
    const tie = !changed && (await storedVersionEquals(tx, resource, connection, object.id, versionAt));
    return {
      outcome: "applied",
      tie: tie ? { resource } : null,
      publish: changed ? [(d) => publishObject(d, resource, connection, object.id)] : [],
    };
  }
  const singleton = singletonForEvent(event.type);
  if (singleton) {
    const written = await storeSingleton(tx, singleton, connection, object, versionAt, now);
    const tie =
      !written &&
      singleton.sameSecond === "tie" &&
      (await singletonVersionIs(tx, singleton, connection.id, versionAt));
    return { outcome: "applied", tie: tie ? { singleton } : null, publish: [] };
  }
  if ((CONNECTION_EVENT_TYPES as readonly string[]).includes(event.type)) {
    // account.application.deauthorized: the merchant removed the app's access.
    if (connection.stripeAccountId && connection.livemode !== null) {
      const disconnected = await deauthorizeInTransaction(tx, now, {
        orgId: connection.orgId,
        stripeAccountId: connection.stripeAccountId,
        livemode: connection.livemode,
      });
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
    if (await markObjectDeleted(deps.db.prisma, resource, connection.id, stripeId, deps.clock.now()))
      publishObject(deps, resource, connection, stripeId);
    return;
  }
  const { written } = await upsertObjects(
    deps.db.prisma,
    resource,
    connection,
    [{ object, versionAt: readAt }],
    deps.clock.now(),
    { replace: "not-older", log: deps.logger },
  );
  if (written.has(stripeId)) publishObject(deps, resource, connection, stripeId);
}
