import type { Deps } from "../deps.ts";
import type { Prisma, StripeConnection } from "../generated/prisma/client.ts";
import { markDeauthorized } from "../stripe/connection-status.ts";
import {
  type ResourceSpec,
  resourceForEvent,
  rowId,
  type StripeObject,
  unixToDate,
} from "../stripe/resources.ts";
import { storeAccount, storeBalance, syncPayoutTransactions } from "./fetch-objects.ts";
import { upsertObjects } from "./upsert.ts";

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

/**
 * The one writer of synced objects after backfill; webhooks and the events poller both call it. An event
 * id is applied once (a unique row per org), and an object only moves forward in time: an event older
 * than what is stored changes nothing; one from the same second is settled by reading the object from Stripe.
 */
export async function applyStripeEvent(
  deps: Deps,
  connection: Connection,
  event: StripeEventPayload,
  source: "webhook" | "poll",
): Promise<ApplyResult> {
  const { prisma } = deps.db;
  const eventRowId = `${connection.orgId}:${event.id}`;
  const created = unixToDate(event.created);
  const stored = await prisma.stripeEvent.createMany({
    data: [
      {
        id: eventRowId,
        orgId: connection.orgId,
        connectionId: connection.id,
        stripeId: event.id,
        type: event.type,
        account: event.account ?? null,
        livemode: event.livemode,
        created,
        source,
        raw: event as unknown as Prisma.InputJsonObject,
        receivedAt: deps.clock.now(),
      },
    ],
    skipDuplicates: true,
  });
  if (stored.count === 0) {
    if (!(await storedButNeverApplied(deps, eventRowId))) return { outcome: "duplicate", followUp: null };
  } else {
    deps.pubsub.publish("stripe-event:received", {
      orgId: connection.orgId,
      connectionId: connection.id,
      id: eventRowId,
      type: event.type,
    });
  }

  const result = await applyObject(deps, connection, event);
  await prisma.stripeEvent.update({ where: { id: eventRowId }, data: { appliedAt: deps.clock.now() } });
  await prisma.stripeConnection.updateMany({
    where: { id: connection.id, OR: [{ eventsCursor: null }, { eventsCursor: { lt: created } }] },
    data: { eventsCursor: created },
  });
  return result;
}

/** Time a stored event may stay unapplied before a redelivery takes over (another instance may be on it). */
const UNAPPLIED_GRACE_MS = 60_000;

/**
 * True for an event that was stored but whose application failed (the database went away in between,
 * the process died): its redelivery, by Stripe's retry or the events poller, applies it after all.
 */
async function storedButNeverApplied(deps: Deps, eventRowId: string): Promise<boolean> {
  const row = await deps.db.prisma.stripeEvent.findUnique({
    where: { id: eventRowId },
    select: { appliedAt: true, receivedAt: true },
  });
  return (
    row !== null &&
    row.appliedAt === null &&
    deps.clock.now().getTime() - row.receivedAt.getTime() > UNAPPLIED_GRACE_MS
  );
}

async function applyObject(
  deps: Deps,
  connection: Connection,
  event: StripeEventPayload,
): Promise<ApplyResult> {
  const object = event.data.object;
  const versionAt = unixToDate(event.created);
  const resource = resourceForEvent(event.type);
  if (resource) {
    const written = await upsertObjects(
      deps.db.prisma,
      resource,
      connection,
      [{ object, versionAt }],
      deps.clock.now(),
    );
    if (written.has(object.id)) publishObject(deps, resource, connection, object.id);
    const tie =
      !written.has(object.id) &&
      (await storedVersionEquals(deps, resource, connection, object.id, versionAt));
    const reconcile = event.type === "payout.reconciliation_completed";
    if (!tie && !reconcile) return { outcome: "applied", followUp: null };
    return {
      outcome: "applied",
      followUp: async () => {
        // Two events of the same second cannot be ordered: the object as Stripe has it now settles it.
        if (tie) await refetchObject(deps, resource, connection, object.id);
        if (reconcile) await syncPayoutTransactions(deps, connection, object.id);
      },
    };
  }
  switch (event.type) {
    case "account.updated":
      await storeAccount(deps, connection, object, versionAt);
      return { outcome: "applied", followUp: null };
    case "balance.available":
      await storeBalance(deps, connection, object);
      return { outcome: "applied", followUp: null };
    case "account.application.deauthorized":
      if (connection.stripeAccountId && connection.livemode !== null) {
        await markDeauthorized(deps, {
          orgId: connection.orgId,
          stripeAccountId: connection.stripeAccountId,
          livemode: connection.livemode,
        });
      }
      return { outcome: "applied", followUp: null };
    default:
      return { outcome: "ignored", followUp: null };
  }
}

async function storedVersionEquals(
  deps: Deps,
  resource: ResourceSpec,
  connection: Connection,
  stripeId: string,
  versionAt: Date,
): Promise<boolean> {
  const delegate = deps.db.prisma[resource.model] as unknown as {
    findUnique(args: object): Promise<{ lastEventAt: Date | null } | null>;
  };
  const row = await delegate.findUnique({
    where: { id: rowId(connection.id, stripeId) },
    select: { lastEventAt: true },
  });
  return row?.lastEventAt?.getTime() === versionAt.getTime();
}

async function refetchObject(deps: Deps, resource: ResourceSpec, connection: Connection, stripeId: string) {
  const readAt = deps.clock.now();
  const object = await deps.stripeApi.get(connection, `${resource.listPath}/${encodeURIComponent(stripeId)}`);
  await upsertObjects(
    deps.db.prisma,
    resource,
    connection,
    [{ object, versionAt: readAt }],
    deps.clock.now(),
  );
  publishObject(deps, resource, connection, stripeId);
}

export function publishObject(
  deps: Pick<Deps, "pubsub">,
  resource: ResourceSpec,
  connection: Connection,
  stripeId: string,
) {
  if (!resource.topic) return;
  deps.pubsub.publish(resource.topic, {
    orgId: connection.orgId,
    connectionId: connection.id,
    id: rowId(connection.id, stripeId),
  });
}
