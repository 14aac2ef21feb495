// Live updates of synced objects and received events. Payloads carry row ids only (see pubsub.ts); each
// resolver reads the row as it is now, so a subscriber never sees data older than the database.
import { delegateOf } from "../../db/delegate.ts";
import { type ObjectTopic, type ObjectUpdated, objectTopic } from "../../pubsub.ts";
import { RESOURCES, type ResourceSpec } from "../../stripe/resources.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { narrowTo, subscribedTo } from "../scope.ts";
import { typeNameOf } from "../stripe-objects.ts";

/**
 * One database read per event and selection, shared by every subscriber of this instance: the pubsub hands
 * all of them the same payload object, so a hundred subscribers of a payout cost one query, not a hundred.
 */
const sharedReads = new WeakMap<object, Map<string, Promise<unknown>>>();
function readOnce<T>(event: object, query: object, read: () => Promise<T>): Promise<T> {
  let reads = sharedReads.get(event);
  if (!reads) {
    reads = new Map();
    sharedReads.set(event, reads);
  }
  const key = JSON.stringify(query);
  let pending = reads.get(key) as Promise<T> | undefined;
  if (!pending) {
    pending = read();
    reads.set(key, pending);
  }
  return pending;
}

/** The subscribe half shared by the object subscriptions: one topic, narrowed to the org (and connection). */
function subscribeToObjects(topic: ObjectTopic) {
  return async (
    _root: unknown,
    args: { connectionId?: { typename: string; id: string } | null },
    ctx: Context,
  ) => {
    const only = await narrowTo(ctx, args.connectionId);
    return ctx.deps.pubsub.subscribeWhere(topic, subscribedTo(ctx, only));
  };
}

const scope = (name: string) =>
  `Every new state of a ${name} of the caller's org (or of the connection given), whether it came from a webhook, reconcile or backfill.`;

type FindUnique = { findUniqueOrThrow(args: object): Promise<unknown> };

/** `<resource>Updated` for each live resource of the registry. */
for (const resource of RESOURCES as readonly ResourceSpec[]) {
  const live = resource.graphql.live;
  if (!live) continue;
  builder.subscriptionField(live.subscription, (t) =>
    t.prismaField({
      type: typeNameOf(resource) as "StripePayout",
      description: scope(live.noun),
      authScopes: { org: true },
      args: { connectionId: t.arg.globalID({ required: false }) },
      subscribe: subscribeToObjects(objectTopic(resource.object)),
      resolve: (query, event: ObjectUpdated, _args, ctx) =>
        readOnce(event, query, () =>
          delegateOf<FindUnique>(ctx.deps.db.prisma, resource.model).findUniqueOrThrow({
            ...query,
            where: { id: event.id },
          }),
        ) as never,
    }),
  );
}

/** Exact event types, or Stripe-style wildcards such as `payout.*` and `*`. */
function typeMatcher(types: readonly string[] | null | undefined): (type: string) => boolean {
  if (!types || types.length === 0) return () => true;
  return (type) =>
    types.some(
      (pattern) =>
        pattern === "*" ||
        pattern === type ||
        (pattern.endsWith(".*") && type.startsWith(pattern.slice(0, -1))),
    );
}

builder.subscriptionField("stripeEventReceived", (t) =>
  t.prismaField({
    type: "StripeEvent",
    description:
      "Each Stripe event stored for the caller's org (once per event id, whether by webhook or by reconcile). `types` takes exact names or wildcards like `payout.*`.",
    authScopes: { org: true },
    args: {
      connectionId: t.arg.globalID({ required: false }),
      types: t.arg.stringList({ required: false }),
    },
    subscribe: async (_root, { connectionId, types }, ctx) => {
      const only = await narrowTo(ctx, connectionId);
      const wanted = typeMatcher(types);
      const scoped = subscribedTo(ctx, only);
      return ctx.deps.pubsub.subscribeWhere(
        "stripe-event:received",
        (event) => scoped(event) && wanted(event.type),
      );
    },
    resolve: (query, event, _args, ctx) =>
      readOnce(event, query, () =>
        ctx.deps.db.prisma.stripeEvent.findUniqueOrThrow({ ...query, where: { id: event.id } }),
      ),
  }),
);
