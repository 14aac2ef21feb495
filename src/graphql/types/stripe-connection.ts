import { filter, pipe } from "graphql-yoga";
import { startConnectionForToken } from "../../connections/browser-connect.ts";
import { disconnectConnection, resyncConnection, startConnection } from "../../connections/lifecycle.ts";
import { NotFoundError, StripeNotConfiguredError, ValidationError } from "../../errors.ts";
import type { StripeConnection } from "../../generated/prisma/client.ts";
import { StripeConnectionStatus } from "../../generated/prisma/enums.ts";
import type { AccessGrant } from "../../orgs/cache.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { forbidden } from "../errors.ts";
import { rowIdOf } from "../ids.ts";
import { assertPageArgs, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../pagination.ts";
import { mayRead, narrowTo, readableConnections, subscribedTo } from "../scope.ts";
import { StripeConnectMethodEnum } from "./stripe-config.ts";

const StripeConnectionStatusEnum = builder.enumType(StripeConnectionStatus, {
  name: "StripeConnectionStatus",
});

builder.prismaNode("StripeConnection", {
  id: { field: "id" },
  nullable: true,
  // node(id) and every lookup only ever find the caller's own connections (a browser token: its own)
  findUnique: (id, ctx) => ({ id, ...readableConnections(ctx) }),
  // Select mode: a lookup reads the columns its selection needs, so one that only lists the connection's
  // objects needs no row at all (see stripeConnection below).
  select: { id: true },
  fields: (t) => ({
    plainId: t.exposeString("id", {
      description:
        "The connection's own id (conn_…), as the gateway's logs show it; every ID argument takes it as well as `id`.",
    }),
    status: t.expose("status", { type: StripeConnectionStatusEnum }),
    method: t.expose("method", { type: StripeConnectMethodEnum }),
    stripeAccountId: t.exposeString("stripeAccountId", {
      nullable: true,
      description: "acct_…, null while PENDING",
    }),
    livemode: t.exposeBoolean("livemode", { nullable: true }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    connectedAt: t.expose("connectedAt", { type: "DateTime", nullable: true }),
    lastSyncedAt: t.expose("lastSyncedAt", { type: "DateTime", nullable: true }),
    lastError: t.exposeString("lastError", {
      nullable: true,
      description: "Why the last sync or authorization failed, for people; null once it succeeds",
    }),
    lastErrorCode: t.exposeString("lastErrorCode", {
      nullable: true,
      description: "lastError as a code: STRIPE_UNAVAILABLE, STRIPE_RATE_LIMITED, NEEDS_REAUTH, INTERNAL, …",
    }),
    nextSyncAt: t.expose("nextSyncAt", {
      type: "DateTime",
      nullable: true,
      description: "When the next backfill, poll or retry is due",
    }),
    disconnectedAt: t.expose("disconnectedAt", { type: "DateTime", nullable: true }),
  }),
});

builder.queryFields((t) => ({
  stripeConnection: t.prismaField({
    type: "StripeConnection",
    nullable: true,
    authScopes: { org: true },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      // Read first: Pothos reports a query that a resolver never looked at (onUnusedQuery).
      const onlyId = needsOnlyId(query);
      if (id.typename !== "StripeConnection" || !mayRead(ctx, id.id)) return null;
      if (onlyId) {
        // `stripeConnection(id) { payouts … }`: its lists need its id and that it is the caller's, which
        // the cache knows without a statement (a connection's org never changes). Pothos reads no other
        // column of it: the row it selected is this one.
        const owned = (await ctx.deps.cache.orgOfConnection(id.id)) === ctx.org!.id;
        return owned ? ({ id: id.id } as StripeConnection) : null;
      }
      return ctx.deps.db.prisma.stripeConnection.findFirst({
        ...query,
        where: { id: id.id, orgId: ctx.org!.id },
      });
    },
  }),
  stripeConnections: t.prismaConnection(
    {
      type: "StripeConnection",
      cursor: "id",
      defaultSize: DEFAULT_PAGE_SIZE,
      maxSize: MAX_PAGE_SIZE,
      authScopes: { org: true },
      args: {
        status: t.arg({
          type: [StripeConnectionStatusEnum],
          required: false,
          description: "Only these; without it, every status but EXPIRED (abandoned connect attempts).",
        }),
      },
      resolve: (query, _root, args, ctx) => {
        assertPageArgs(args);
        return ctx.deps.db.prisma.stripeConnection.findMany({
          ...query,
          where: listedConnections(ctx, args.status),
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        });
      },
      totalCount: (_root, args, ctx) =>
        ctx.deps.db.prisma.stripeConnection.count({ where: listedConnections(ctx, args.status) }),
    },
    { name: "StripeConnectionConnection" },
    { name: "StripeConnectionEdge" },
  ),
}));

/** The connections `stripeConnections` lists: the caller's, of the given statuses or else all but EXPIRED. */
function listedConnections(ctx: Context, status: readonly StripeConnectionStatus[] | null | undefined) {
  return {
    ...readableConnections(ctx),
    status: status ? { in: [...status] } : { not: StripeConnectionStatus.EXPIRED },
  };
}

const StartStripeConnectionInput = builder.inputType("StartStripeConnectionInput", {
  fields: (t) => ({
    returnUrl: t.string({
      required: false,
      description: "Where the browser goes afterwards (default: the org's defaultReturnUrl).",
    }),
    metadata: t.field({
      type: "JSON",
      required: false,
      description: "Your own JSON object, kept on the connection.",
    }),
    reconnectConnectionId: t.id({
      required: false,
      description: "Re-authorize this connection; it keeps its id.",
    }),
  }),
});

/** A browser token's one start, with the metadata its backend fixed (the browser cannot send its own). */
async function startForToken(
  ctx: Context,
  grant: AccessGrant,
  input: { returnUrl?: string | null; metadata?: unknown; reconnectConnectionId: string | null },
) {
  if (input.metadata != null) {
    throw new ValidationError([
      { path: ["input", "metadata"], message: "is fixed by the access token: send none" },
    ]);
  }
  const refused = () => forbidden("This access token may not start a connection (or has started its one).");
  if (!grant.allowConnect || grant.connectUsed) throw refused();
  const started = await startConnectionForToken(ctx.deps, ctx.org!, grant, {
    returnUrl: input.returnUrl,
    reconnectConnectionId: input.reconnectConnectionId,
  });
  if (!started) throw refused();
  return started;
}

/** The query Pothos built reads nothing of the row but its id. */
function needsOnlyId(query: { select?: Record<string, unknown> }): boolean {
  return query.select !== undefined && Object.keys(query.select).every((column) => column === "id");
}

/** A mutation payload's `connection`: the row as it is now. */
function connectionOfPayload(query: object, payload: { connectionId: string }, _args: object, ctx: Context) {
  return ctx.deps.db.prisma.stripeConnection.findUniqueOrThrow({
    ...query,
    where: { id: payload.connectionId },
  });
}

const StartStripeConnectionSuccess = builder
  .objectRef<{ connectionId: string; authorizationUrl: string; expiresAt: Date }>(
    "StartStripeConnectionSuccess",
  )
  .implement({
    fields: (t) => ({
      connection: t.prismaField({ type: "StripeConnection", resolve: connectionOfPayload }),
      authorizationUrl: t.exposeString("authorizationUrl", {
        description: "Send the merchant's browser here.",
      }),
      expiresAt: t.expose("expiresAt", { type: "DateTime", description: "The link works once, until then." }),
    }),
  });

/** `{ connection }` payloads of the resync and disconnect mutations. */
function connectionPayload(name: string) {
  return builder.objectRef<{ connectionId: string }>(name).implement({
    fields: (t) => ({
      connection: t.prismaField({ type: "StripeConnection", resolve: connectionOfPayload }),
    }),
  });
}

const ResyncSuccess = connectionPayload("ResyncStripeConnectionSuccess");
const DisconnectSuccess = connectionPayload("DisconnectStripeConnectionSuccess");

/** A global StripeConnection id from an argument, or NotFoundError. */
function connectionIdOf(id: { typename: string; id: string }): string {
  if (id.typename !== "StripeConnection") throw new NotFoundError("No such connection in this org.");
  return id.id;
}

/** The connection `reconnectConnectionId` names (global or plain id), or NotFoundError. */
function reconnectTarget(id: string): string {
  const rowId = rowIdOf(id, "StripeConnection");
  if (!rowId) throw new NotFoundError("No such connection in this org.");
  return rowId;
}

builder.mutationFields((t) => ({
  startStripeConnection: t.field({
    type: StartStripeConnectionSuccess,
    authScopes: { org: true },
    errors: {
      types: [StripeNotConfiguredError, ValidationError, NotFoundError],
      union: { name: "StartStripeConnectionResult" },
    },
    args: { input: t.arg({ type: StartStripeConnectionInput, required: false }) },
    resolve: async (_root, { input }, ctx) => {
      const reconnect = input?.reconnectConnectionId;
      const reconnectConnectionId = reconnect ? reconnectTarget(String(reconnect)) : null;
      if (reconnectConnectionId !== null && !mayRead(ctx, reconnectConnectionId)) {
        throw new NotFoundError("No such connection in this org.");
      }
      const started =
        ctx.credential?.kind === "accessToken"
          ? await startForToken(ctx, ctx.credential.grant, { ...input, reconnectConnectionId })
          : await startConnection(ctx.deps, ctx.org!, {
              returnUrl: input?.returnUrl,
              metadata: input?.metadata,
              reconnectConnectionId,
            });
      return {
        connectionId: started.connection.id,
        authorizationUrl: started.authorizationUrl,
        expiresAt: started.expiresAt,
      };
    },
  }),
  resyncStripeConnection: t.field({
    type: ResyncSuccess,
    authScopes: { apiKey: true },
    errors: { types: [NotFoundError], union: { name: "ResyncStripeConnectionResult" } },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: async (_root, { id }, ctx) => ({
      connectionId: (await resyncConnection(ctx.deps, ctx.org!.id, connectionIdOf(id))).id,
    }),
  }),
  disconnectStripeConnection: t.field({
    type: DisconnectSuccess,
    authScopes: { apiKey: true },
    errors: { types: [NotFoundError], union: { name: "DisconnectStripeConnectionResult" } },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: async (_root, { id }, ctx) => ({
      connectionId: (await disconnectConnection(ctx.deps, ctx.org!.id, connectionIdOf(id))).id,
    }),
  }),
}));

builder.subscriptionField("connectionUpdated", (t) =>
  t.prismaField({
    type: "StripeConnection",
    description: "Every change of a connection of the caller's org (or of the one given).",
    authScopes: { org: true },
    args: { connectionId: t.arg.globalID({ required: false }) },
    subscribe: async (_root, { connectionId }, ctx) => {
      const only = await narrowTo(ctx, connectionId);
      return pipe(ctx.deps.pubsub.subscribe("connection:changed"), filter(subscribedTo(ctx, only)));
    },
    resolve: (query, event, _args, ctx) =>
      ctx.deps.db.prisma.stripeConnection.findUniqueOrThrow({ ...query, where: { id: event.connectionId } }),
  }),
);
