import { delegateOf } from "../db/delegate.ts";
import { type PerParentResource, RESOURCE_BY_KEY } from "../stripe/resources.ts";
import { storeObjects } from "./store-objects.ts";
import type { SyncDeps } from "./sync-deps.ts";

type Connection = { id: string; orgId: string; livemode: boolean | null };
type Delegate = { findMany(args: object): Promise<{ stripeId: string; created: Date }[]> };

/**
 * Lists a resource's objects of one parent (a payout's balance transactions, a fee's refunds) and stores
 * them, with the parent's id in the link column where Stripe keeps it off the object. Returns the count.
 */
export async function listChildrenOf(
  deps: SyncDeps,
  resource: PerParentResource,
  connection: Connection,
  parentId: string,
): Promise<number> {
  const { perParent } = resource;
  const extra = perParent.linkColumn ? { [perParent.linkColumn]: parentId } : undefined;
  let count = 0;
  for await (const page of deps.stripeApi.list(
    connection,
    perParent.path(parentId),
    perParent.params?.(parentId),
  )) {
    await storeObjects(
      deps,
      resource,
      connection,
      page.data.map((object) => ({ object, versionAt: page.readAt, ...(extra ? { extra } : {}) })),
      // The link to the parent is new information even when the object itself is unchanged.
      { replace: "not-older", log: deps.logger },
    );
    count += page.data.length;
  }
  return count;
}

/** Where a walk over parents is: the last one done. */
export type ParentPosition = { created: Date; stripeId: string };

/**
 * Stored parents that can have children, newest first (by `created`, then id, as the index orders
 * them), after `after` (the last one done; null from the newest), a batch at a time.
 */
export function parentsNewestFirst(
  deps: Pick<SyncDeps, "db">,
  resource: PerParentResource,
  connectionId: string,
  after: ParentPosition | null,
): Promise<ParentPosition[]> {
  const parent = delegateOf<Delegate>(deps.db.prisma, RESOURCE_BY_KEY.get(resource.perParent.parent)!.model);
  return parent.findMany({
    where: {
      connectionId,
      ...resource.perParent.parentWhere,
      ...(after
        ? {
            OR: [
              { created: { lt: after.created } },
              { created: after.created, stripeId: { lt: after.stripeId } },
            ],
          }
        : {}),
    },
    orderBy: [{ created: "desc" }, { stripeId: "desc" }],
    select: { stripeId: true, created: true },
    take: 100,
  });
}
