import { delegateOf } from "../db/delegate.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { readVersion } from "../stripe/api.ts";
import { readColumns } from "../stripe/columns.ts";
import type { SingletonSpec, StripeObject } from "../stripe/resources.ts";
import type { SyncDeps, Writer } from "./sync-deps.ts";

type Connection = { id: string; livemode: boolean | null };

type SingletonDelegate = {
  updateMany(args: object): Promise<{ count: number }>;
  createMany(args: object): Promise<{ count: number }>;
  findUnique(args: object): Promise<{ lastEventAt: Date | null } | null>;
};

/**
 * Stores the account's one object of a singleton resource (the account, its balance), guarded by version
 * time like every synced object: an older version changes nothing. True when written.
 */
export async function storeSingleton(
  db: Writer,
  spec: SingletonSpec,
  connection: Connection,
  object: StripeObject,
  versionAt: Date,
  now: Date,
  replace: "newer" | "not-older" = spec.sameSecond === "replace" ? "not-older" : "newer",
): Promise<boolean> {
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
  const updated = await delegate.updateMany({
    where: { connectionId: connection.id, OR: [{ lastEventAt: null }, { lastEventAt: older }] },
    data,
  });
  if (updated.count > 0) return true;
  const created = await delegate.createMany({
    data: [{ connectionId: connection.id, ...data }],
    skipDuplicates: true,
  });
  return created.count > 0;
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
  deps: Pick<SyncDeps, "db" | "clock" | "stripeApi">,
  spec: SingletonSpec,
  connection: Connection,
  replace?: "newer" | "not-older",
) {
  const readAt = readVersion(deps.clock.now());
  const object = await deps.stripeApi.get(connection, spec.path);
  await storeSingleton(deps.db.prisma, spec, connection, object, readAt, deps.clock.now(), replace);
}
