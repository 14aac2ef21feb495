import type { Deps } from "../deps.ts";
import type { Prisma, StripeConnection } from "../generated/prisma/client.ts";
import { deauthorizeInTransaction } from "../stripe/connection-status.ts";
import {
  idOf,
  isDeletionEvent,
  RESOURCE_BY_KEY,
  type ResourceSpec,
  resourceForEvent,
  rowId,
  type StripeObject,
  unixToDate,
} from "../stripe/resources.ts";
import { storeAccount, storeBalance, syncPayoutTransactions, type Writer } from "./fetch-objects.ts";
import { markObjectDeleted, readVersion, upsertObjects } from "./upsert.ts";

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

/** Events about the account, its balance and the connection itself, beside the registry's resources. */
export const ACCOUNT_EVENT_TYPES = [
  "account.updated",
  "balance.available",
  "account.application.deauthorized",
] as const;

type Connection = Pick<StripeConnection, "id" | "orgId" | "livemode" | "stripeAccountId">;
type Publish = (deps: Pick<Deps, "pubsub">) => void;
/** The object a tie is about: one of the registry's, or the connected account itself. */
type Tie = ResourceSpec | "account";
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
  deps: Deps,
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
    return applyObject(tx, deps, connection, event, now);
  }, TRANSACTION);
  if (!applied) return { outcome: "duplicate", followUp: null };

  deps.pubsub.publish("stripe-event:received", {
    orgId: connection.orgId,
    connectionId: connection.id,
    id: eventRowId,
    type: event.type,
  });
  for (const publish of applied.publish) publish(deps);
  const { tie } = applied;
  const reconcile = event.type === "payout.reconciliation_completed";
  const related = relatedObjects(event);
  if (!tie && !reconcile && related.length === 0) return { outcome: applied.outcome, followUp: null };
  const stripeId = event.data.object.id;
  return {
    outcome: applied.outcome,
    followUp: async () => {
      // Two versions of the same second cannot be ordered: the object as Stripe has it now settles it.
      if (tie === "account") await refetchAccount(deps, connection);
      else if (tie) await refetchObject(deps, tie, connection, stripeId);
      for (const { resource, id } of related) await refetchObject(deps, resource, connection, id);
      if (reconcile) await syncPayoutTransactions(deps, connection, stripeId);
    },
  };
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
  deps: Deps,
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
      tie: tie ? resource : null,
      publish: changed ? [(d) => publishObject(d, resource, connection, object.id)] : [],
    };
  }
  switch (event.type) {
    case "account.updated": {
      const written = await storeAccount(tx, connection, object, versionAt, now);
      const stored = written
        ? null
        : await tx.stripeAccount.findUnique({ where: { connectionId: connection.id } });
      const tie = stored?.lastEventAt?.getTime() === versionAt.getTime();
      return { outcome: "applied", tie: tie ? "account" : null, publish: [] };
    }
    case "balance.available":
      await storeBalance(tx, connection, object, versionAt, now);
      return { outcome: "applied", tie: null, publish: [] };
    case "account.application.deauthorized": {
      if (!connection.stripeAccountId || connection.livemode === null) break;
      const disconnected = await deauthorizeInTransaction(tx, now, {
        orgId: connection.orgId,
        stripeAccountId: connection.stripeAccountId,
        livemode: connection.livemode,
      });
      return {
        outcome: "applied",
        tie: null,
        publish: disconnected ? [(d) => publishConnectionChange(d, disconnected)] : [],
      };
    }
  }
  return { outcome: "ignored", tie: null, publish: [] };
}

function publishConnectionChange(deps: Pick<Deps, "pubsub">, connection: { id: string; orgId: string }) {
  deps.pubsub.publish("connection:updated", { orgId: connection.orgId, connectionId: connection.id });
}

async function storedVersionEquals(
  tx: Writer,
  resource: ResourceSpec,
  connection: Connection,
  stripeId: string,
  versionAt: Date,
): Promise<boolean> {
  const delegate = tx[resource.model] as unknown as {
    findUnique(args: object): Promise<{ lastEventAt: Date | null } | null>;
  };
  const row = await delegate.findUnique({
    where: { id: rowId(connection.id, stripeId) },
    select: { lastEventAt: true },
  });
  return row?.lastEventAt?.getTime() === versionAt.getTime();
}

async function refetchAccount(deps: Deps, connection: Connection) {
  const readAt = readVersion(deps.clock.now());
  const account = await deps.stripeApi.get(connection, "/v1/account");
  await storeAccount(deps.db.prisma, connection, account, readAt, deps.clock.now(), "not-older");
}

async function refetchObject(deps: Deps, resource: ResourceSpec, connection: Connection, stripeId: string) {
  const readAt = readVersion(deps.clock.now());
  const object = await deps.stripeApi.get(connection, `${resource.listPath}/${encodeURIComponent(stripeId)}`);
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

export function publishObject(
  deps: Pick<Deps, "pubsub">,
  resource: ResourceSpec,
  connection: Pick<Connection, "id" | "orgId">,
  stripeId: string,
) {
  if (!resource.topic) return;
  deps.pubsub.publish(resource.topic, {
    orgId: connection.orgId,
    connectionId: connection.id,
    id: rowId(connection.id, stripeId),
  });
}
