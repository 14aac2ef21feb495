// The change feed: every change the gateway applied, numbered per org (src/feed/change-log.ts), as a
// page for polling clients and as a subscription that resumes after a sequence without gap or repeat.
import { brandWithType } from "@pothos/core";
import { ChangeCursorError } from "../../feed/change-feed.ts";
import type { Change } from "../../feed/change-log.ts";
import { resourceOfChange } from "../../feed/change-log.ts";
import { type ChangeFilter, oldestResumable, parseSequence, readChanges } from "../../feed/read-changes.ts";
import { rowId } from "../../stripe/resources.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { badInput, changeCursorExpired } from "../errors.ts";
import { narrowTo } from "../scope.ts";
import { sseEventId } from "../shared-subscriptions.ts";
import { connectionGlobalId, typeNameOf } from "../stripe-objects.ts";

const StripeChangeRef = builder.objectRef<Change>("StripeChange");

/** A change's node id names its org and sequence; only that org (and a token's connections) can load it. */
const changeKey = (change: Pick<Change, "orgId" | "sequence">) => `${change.orgId}:${change.sequence}`;

builder.node(StripeChangeRef, {
  description:
    "One change the gateway applied: a synced object created, updated or deleted (by webhook, poll or backfill), or a connection's lifecycle step. `sequence` numbers the org's changes in commit order.",
  id: { resolve: changeKey },
  loadMany: (ids, ctx: Context) => Promise.all(ids.map((id) => loadChange(ctx, id))),
  fields: (t) => ({
    sequence: t.string({
      description: "Decimal integer, strictly increasing per org in commit order; resume after it",
      resolve: (change) => change.sequence.toString(),
    }),
    type: t.exposeString("type", {
      description:
        '"<object>.created|updated|deleted" (payout.updated, dispute.created, balance.updated) or "connection.<step>": connected, ready, syncing, unhealthy, recovered, needs_reauth, disconnected',
    }),
    connectionId: t.id({
      nullable: true,
      resolve: (change) => (change.connectionId ? connectionGlobalId(change.connectionId) : null),
    }),
    connection: t.field({
      // The prisma node's name: Pothos resolves it when the schema is built.
      type: "StripeConnection" as never,
      nullable: true,
      // Pothos reads the columns the selection needs (and that the caller may read it) by this id.
      resolve: (change) =>
        (change.connectionId ? node({ id: change.connectionId }, "StripeConnection") : null) as never,
    }),
    object: t.field({
      type: builder.nodeInterfaceRef(),
      nullable: true,
      description:
        "The changed object as it is now (the connection, for connection.* changes); null for the account and balance, which are not nodes",
      resolve: (change) => objectOf(change) as never,
    }),
    stripeEventId: t.exposeString("stripeEventId", {
      nullable: true,
      description: "The Stripe event that caused it, when one did",
    }),
    occurredAt: t.expose("occurredAt", { type: "DateTime" }),
  }),
});

/** The object of a change, as a node Pothos loads (columns as selected, scoped to the caller). */
function objectOf(change: Change): object | null {
  if (!change.connectionId || !change.objectId) return null;
  if (change.type.startsWith("connection.")) return node({ id: change.connectionId }, "StripeConnection");
  const resource = resourceOfChange(change.type);
  if (!resource) return null;
  return node({ id: rowId(change.connectionId, change.objectId) }, typeNameOf(resource));
}

/** A row by its id, marked as a node of its type (so the Node interface knows which type it is). */
function node<T extends object>(row: T, typeName: string): T {
  brandWithType(row, typeName as never);
  return row;
}

async function loadChange(ctx: Context, id: string): Promise<Change | null> {
  const colon = id.lastIndexOf(":");
  const sequence = parseSequence(id.slice(colon + 1));
  if (colon < 0 || sequence === null || !ctx.org || id.slice(0, colon) !== ctx.org.id) return null;
  const page = await readChanges(
    ctx.deps.db,
    { orgId: ctx.org.id, connectionIds: scopeOf(ctx), types: null },
    { after: sequence - 1n, upTo: sequence, limit: 1 },
  );
  return page.kind === "page" ? (page.changes[0] ?? null) : null;
}

const scopeOf = (ctx: Context) => (ctx.connectionScope ? [...ctx.connectionScope] : null);

type FeedArgs = {
  connectionId?: { typename: string; id: string } | null;
  types?: readonly string[] | null;
};

/** The caller's changes: its org's, of the connection asked for, within what its credential may read. */
async function filterOf(ctx: Context, args: FeedArgs): Promise<ChangeFilter> {
  const only = await narrowTo(ctx, args.connectionId);
  for (const type of args.types ?? [])
    if (!/^(\*|[a-z_.]+\.\*|[a-z_.]+)$/.test(type))
      throw badInput(
        `types: "${type}" is not a change type (payout.updated), an object's changes (payout.*) or *.`,
      );
  return { orgId: ctx.org!.id, connectionIds: only ? [only] : scopeOf(ctx), types: args.types ?? null };
}

function cursorOf(value: string | null | undefined, name: string): bigint | null {
  if (value === null || value === undefined) return null;
  const sequence = parseSequence(value.trim());
  if (sequence === null) throw badInput(`${name}: "${value}" is not a change sequence (a decimal integer).`);
  return sequence;
}

function cursorError(reason: "expired" | "ahead") {
  return reason === "expired"
    ? changeCursorExpired(
        "after: the changes after this sequence are past the log's retention (CHANGE_RETENTION_DAYS). Query the data again, then resume from the newest sequence.",
      )
    : badInput("after: no change of this org has this sequence yet (a cursor of another org or database?).");
}

const StripeChangeConnection = builder.connectionObject({
  type: StripeChangeRef,
  name: "StripeChangeConnection",
});

builder.queryField("changes", (t) =>
  t.field({
    type: StripeChangeConnection,
    description:
      "The caller's changes after `after` (a sequence; from the oldest kept without it), oldest first, for clients that poll instead of subscribing. Each edge's cursor is its sequence; endCursor is where to resume (past every change up to now when the page is not full).",
    authScopes: { org: true },
    args: {
      first: t.arg.int({ required: false }),
      after: t.arg.string({ required: false }),
      connectionId: t.arg.globalID({ required: false }),
      types: t.arg.stringList({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const filter = await filterOf(ctx, args);
      const first = args.first ?? 100;
      if (first < 1 || first > 1000) throw badInput("first: must be between 1 and 1000.");
      const requested = cursorOf(args.after, "after");
      const after = requested ?? (await oldestResumable(ctx.deps.db, filter.orgId));
      const page = await readChanges(ctx.deps.db, filter, { after, limit: first + 1 });
      if (page.kind !== "page") throw cursorError(page.kind);
      const changes = page.changes.slice(0, first);
      const more = page.changes.length > first;
      // A page that is not full saw every change up to lastSequence (one snapshot; never below `after`,
      // which readChanges refuses as ahead): resume past them all.
      const end = more ? changes.at(-1)!.sequence : page.lastSequence;
      return {
        edges: changes.map((change) => ({ cursor: change.sequence.toString(), node: change })),
        pageInfo: {
          hasNextPage: more,
          hasPreviousPage: false,
          startCursor: changes[0]?.sequence.toString() ?? null,
          endCursor: end.toString(),
        },
      };
    },
  }),
);

builder.subscriptionField("changes", (t) =>
  t.field({
    type: StripeChangeRef,
    description:
      "With `after`: first every change after that sequence, oldest first, then live ones, with no gap and no duplicate. Over SSE each event carries `id: <sequence>`, and a reconnect's Last-Event-ID counts as `after`. An `after` past the retention window fails with CHANGE_CURSOR_EXPIRED.",
    authScopes: { org: true },
    args: {
      after: t.arg.string({ required: false }),
      connectionId: t.arg.globalID({ required: false }),
      types: t.arg.stringList({ required: false }),
    },
    subscribe: async (_root, args, ctx) => {
      const filter = await filterOf(ctx, args);
      // An SSE reconnect resumes after what it last received, which is newer than the `after` it began with.
      const after = cursorOf(ctx.lastEventId, "Last-Event-ID") ?? cursorOf(args.after, "after");
      try {
        const changes = await ctx.deps.changeFeed.subscribe(filter, after);
        return withEventIds(changes);
      } catch (error) {
        if (error instanceof ChangeCursorError) throw cursorError(error.reason);
        throw error;
      }
    },
    resolve: (change) => change,
  }),
);

/** Each change with its SSE event id: its sequence. */
function withEventIds(changes: AsyncIterableIterator<Change>): AsyncIterableIterator<Change> {
  const iterator: AsyncIterableIterator<Change> = {
    [Symbol.asyncIterator]: () => iterator,
    next: async () => {
      const step = await changes.next();
      if (!step.done) Object.assign(step.value, { [sseEventId]: step.value.sequence.toString() });
      return step;
    },
    return: () => changes.return?.() ?? Promise.resolve({ done: true, value: undefined }),
  };
  return iterator;
}
