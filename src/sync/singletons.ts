import { isDeepStrictEqual } from "node:util";
import { delegateOf, modelNameOf } from "../db/delegate.ts";
import { quoteIdentifier } from "../db/sql.ts";
import { type ChangeRecorder, objectChangeType, withChanges } from "../feed/change-log.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { readVersion } from "../stripe/api.ts";
import { readColumns } from "../stripe/columns.ts";
import type { SingletonSpec, StripeObject } from "../stripe/resources.ts";
import type { SyncDeps, Writer } from "./sync-deps.ts";

type Connection = { id: string; livemode: boolean | null };

type SingletonDelegate = {
  updateMany(args: object): Promise<{ count: number }>;
  createMany(args: object): Promise<{ count: number }>;
  findUnique(args: object): Promise<{ lastEventAt?: Date | null; raw?: unknown } | null>;
};

/** What storing a singleton did: written (its version moved on), and the change it made, if any. */
export type SingletonWrite = { written: boolean; change: "created" | "updated" | null };

/**
 * Stores the account's one object of a singleton resource (the account, its balance), guarded by version
 * time like every synced object: an older version changes nothing. A newer version that says what the
 * stored one said is written but is no change. Runs in the caller's change-log transaction.
 */
export async function storeSingleton(
  db: Writer,
  spec: SingletonSpec,
  connection: Connection,
  object: StripeObject,
  versionAt: Date,
  now: Date,
  replace: "newer" | "not-older" = spec.sameSecond === "replace" ? "not-older" : "newer",
): Promise<SingletonWrite> {
  const data = {
    ...readColumns(spec.columns, object),
    ...(spec.livemode
      ? { livemode: typeof object.livemode === "boolean" ? object.livemode : connection.livemode === true }
      : {}),
    raw: object as unknown as Prisma.InputJsonObject,
    lastEventAt: versionAt,
    [spec.writtenAtColumn]: now,
  };
  const older = replace === "newer" ? { lt: versionAt } : { lte: versionAt };
  const delegate = delegateOf<SingletonDelegate>(db, spec.model);
  const stored = await delegate.findUnique({ where: { connectionId: connection.id }, select: { raw: true } });
  const updated = await delegate.updateMany({
    where: { connectionId: connection.id, OR: [{ lastEventAt: null }, { lastEventAt: older }] },
    data,
  });
  if (updated.count > 0)
    return { written: true, change: isDeepStrictEqual(stored?.raw, object) ? null : "updated" };
  const created = await delegate.createMany({
    data: [{ connectionId: connection.id, ...data }],
    skipDuplicates: true,
  });
  return created.count > 0 ? { written: true, change: "created" } : { written: false, change: null };
}

/**
 * What storeSingleton does when Stripe's answer equals the stored object (the usual poll: the balance did
 * not move), in one statement and outside a change-log transaction: the newer version and the time it was
 * read. False when it is not that case (another object, a newer version stored, none stored yet).
 */
async function storeIfUnchanged(
  db: Pick<SyncDeps["db"], "sql">,
  spec: SingletonSpec,
  connection: Connection,
  object: StripeObject,
  versionAt: Date,
  now: Date,
  replace: "newer" | "not-older" = spec.sameSecond === "replace" ? "not-older" : "newer",
): Promise<boolean> {
  const older = replace === "newer" ? "<" : "<=";
  const table = quoteIdentifier(modelNameOf(spec.model));
  const rows = await db.sql(
    `UPDATE ${table} SET "lastEventAt" = $1, ${quoteIdentifier(spec.writtenAtColumn)} = $2 ` +
      `WHERE "connectionId" = $3 AND "raw" = $4::jsonb AND ("lastEventAt" IS NULL OR "lastEventAt" ${older} $1) RETURNING 1`,
    [versionAt, now, connection.id, JSON.stringify(object)],
  );
  return rows.length > 0;
}

/** Enters a singleton's change into the transaction's change log (`balance.updated`). */
export function recordSingletonChange(
  changes: ChangeRecorder,
  spec: SingletonSpec,
  connection: { id: string; orgId: string },
  write: SingletonWrite,
  stripeEventId: string | null = null,
) {
  if (!write.change) return;
  changes.record({
    orgId: connection.orgId,
    connectionId: connection.id,
    type: objectChangeType(spec.key, write.change),
    objectId: null,
    stripeEventId,
  });
}

/** True when the stored version is of exactly this second: a tie, settled by reading Stripe again. */
export async function singletonVersionIs(db: Writer, spec: SingletonSpec, connectionId: string, at: Date) {
  const stored = await delegateOf<SingletonDelegate>(db, spec.model).findUnique({
    where: { connectionId },
    select: { lastEventAt: true },
  });
  return stored?.lastEventAt?.getTime() === at.getTime();
}

/** Reads the singleton from Stripe and stores it (`not-older` settles a tie with what Stripe has now). */
export async function readSingleton(
  deps: Pick<SyncDeps, "db" | "clock" | "stripeApi" | "pubsub">,
  spec: SingletonSpec,
  connection: Connection & { orgId: string },
  replace?: "newer" | "not-older",
) {
  const readAt = readVersion(deps.clock.now());
  const object = await deps.stripeApi.get(connection, spec.path);
  if (await storeIfUnchanged(deps.db, spec, connection, object, readAt, deps.clock.now(), replace)) return;
  await withChanges(deps, [connection.orgId], async (tx, changes) => {
    const write = await storeSingleton(tx, spec, connection, object, readAt, deps.clock.now(), replace);
    recordSingletonChange(changes, spec, connection, write);
  });
}
