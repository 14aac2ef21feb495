// The body of a delivery: `{ type, timestamp, data: { sequence, connection, object } }`, with Stripe's own
// object as the change left it. A change a Stripe event made carries that event's object — exactly the
// state it wrote, however soon the object changed again. A change without an event (backfill, a re-read)
// carries the object as stored when the delivery is scheduled, a moment after the change.
import type { Database } from "../../db/client.ts";
import { delegateOf } from "../../db/delegate.ts";
import { connectionGlobalId } from "../../public-ids.ts";
import { RESOURCES, rowId, SINGLETONS, type SingletonSpec } from "../../stripe/resources.ts";
import { type Change, resourceOfChange } from "../change-log.ts";
import { TEST_PING_TYPE } from "../change-types.ts";

export type DeliveryBody = {
  type: string;
  /** When the change happened (ISO 8601) */
  timestamp: string;
  data: {
    sequence: string;
    connection: {
      /** The connection's GraphQL id (StripeConnection.id) */
      id: string;
      stripeAccountId: string | null;
      status: string;
      metadata: unknown;
    } | null;
    object: unknown;
  };
};

type RawRow = { id: string; raw: unknown };
type SingletonRow = { connectionId: string; raw: unknown };
type RawDelegate = { findMany(args: object): Promise<RawRow[]> };
type SingletonDelegate = { findMany(args: object): Promise<SingletonRow[]> };

const singletonOfChange = (type: string): SingletonSpec | undefined =>
  (SINGLETONS as readonly SingletonSpec[]).find((singleton) => type.startsWith(`${singleton.key}.`));

/** The serialised body of each change (by sequence), read with a few statements whatever their number. */
export async function deliveryBodies(
  db: Pick<Database, "prisma">,
  changes: readonly Change[],
): Promise<Map<bigint, string>> {
  const connectionIds = [...new Set(changes.flatMap((change) => change.connectionId ?? []))];
  const connections = new Map(
    (
      await db.prisma.stripeConnection.findMany({
        where: { id: { in: connectionIds } },
        select: { id: true, stripeAccountId: true, status: true, metadata: true },
      })
    ).map((connection) => [connection.id, connection]),
  );
  const objects = await objectsOf(db, changes);
  for (const [sequence, object] of await eventObjectsOf(db, changes)) objects.set(sequence, object);
  return new Map(
    changes.map((change) => {
      const connection = change.connectionId ? connections.get(change.connectionId) : undefined;
      const body: DeliveryBody = {
        type: change.type,
        timestamp: change.occurredAt.toISOString(),
        data: {
          sequence: change.sequence.toString(),
          connection: connection
            ? {
                id: connectionGlobalId(connection.id),
                stripeAccountId: connection.stripeAccountId,
                status: connection.status,
                metadata: connection.metadata ?? {},
              }
            : null,
          object: objects.get(change.sequence) ?? null,
        },
      };
      return [change.sequence, JSON.stringify(body)];
    }),
  );
}

/** A test delivery's body: no change, no connection, no object. */
export const testPingBody = (at: Date) =>
  JSON.stringify({
    type: TEST_PING_TYPE,
    timestamp: at.toISOString(),
    data: { sequence: "0", connection: null, object: null },
  } satisfies DeliveryBody);

/** The object of each change that a Stripe event made, as the event carried it (by sequence). */
async function eventObjectsOf(db: Pick<Database, "prisma">, changes: readonly Change[]) {
  const caused = changes.filter((change) => change.stripeEventId && change.objectId);
  const bySequence = new Map<bigint, unknown>();
  if (caused.length === 0) return bySequence;
  const events = await db.prisma.stripeEvent.findMany({
    where: {
      orgId: caused[0]!.orgId,
      stripeId: { in: [...new Set(caused.map((change) => change.stripeEventId!))] },
    },
    select: { stripeId: true, raw: true },
  });
  const objects = new Map(
    events.map((event) => [
      event.stripeId,
      (event.raw as { data?: { object?: { id?: unknown } } }).data?.object,
    ]),
  );
  for (const change of caused) {
    const object = objects.get(change.stripeEventId!);
    // An event also changes objects it does not carry (a dispute's charge, read again): those keep the stored one.
    if (object?.id === change.objectId) bySequence.set(change.sequence, object);
  }
  return bySequence;
}

/** Each change's Stripe object as stored (by sequence): one read per resource or singleton involved. */
async function objectsOf(db: Pick<Database, "prisma">, changes: readonly Change[]) {
  const bySequence = new Map<bigint, unknown>();
  for (const resource of RESOURCES) {
    const ofResource = changes.filter(
      (change) => change.objectId && change.connectionId && resourceOfChange(change.type) === resource,
    );
    if (ofResource.length === 0) continue;
    const ids = ofResource.map((change) => rowId(change.connectionId!, change.objectId!));
    const rows = await delegateOf<RawDelegate>(db.prisma, resource.model).findMany({
      where: { id: { in: ids } },
      select: { id: true, raw: true },
    });
    const raw = new Map(rows.map((row) => [row.id, row.raw]));
    for (const [index, change] of ofResource.entries()) bySequence.set(change.sequence, raw.get(ids[index]!));
  }
  for (const singleton of SINGLETONS) {
    const ofSingleton = changes.filter(
      (change) => change.connectionId && singletonOfChange(change.type) === singleton,
    );
    if (ofSingleton.length === 0) continue;
    const rows = await delegateOf<SingletonDelegate>(db.prisma, singleton.model).findMany({
      where: { connectionId: { in: ofSingleton.map((change) => change.connectionId!) } },
      select: { connectionId: true, raw: true },
    });
    const raw = new Map(rows.map((row) => [row.connectionId, row.raw]));
    for (const change of ofSingleton) bySequence.set(change.sequence, raw.get(change.connectionId!));
  }
  return bySequence;
}
