// The org's webhook endpoints: signed deliveries of its change log to its own backend (Standard
// Webhooks), each with its deliveries and their attempts. Only the org's API key manages them.
import { NotFoundError, ValidationError } from "../../errors.ts";
import {
  createEndpoint,
  deleteEndpoint,
  type EndpointDeps,
  type EndpointInput,
  rotateEndpointSecret,
  updateEndpoint,
} from "../../feed/webhooks/endpoints.ts";
import { recoverDeliveries, scheduleTestPing } from "../../feed/webhooks/schedule-deliveries.ts";
import { WebhookDeliveryStatus } from "../../generated/prisma/enums.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { rowIdOf, rowIdOrNone } from "../ids.ts";
import { apiKeyOrgId } from "../scope.ts";
import { connectionGlobalId } from "../stripe-objects.ts";

const WebhookDeliveryStatusEnum = builder.enumType(WebhookDeliveryStatus, { name: "WebhookDeliveryStatus" });

builder.prismaObject("WebhookAttempt", {
  description: "One HTTP request of a delivery and what came of it.",
  fields: (t) => ({
    at: t.expose("at", { type: "DateTime" }),
    statusCode: t.exposeInt("statusCode", { nullable: true, description: "null: no HTTP answer" }),
    durationMs: t.exposeInt("durationMs"),
    error: t.exposeString("error", {
      nullable: true,
      description: "Why it failed: the status and the start of the answer, or the network error",
    }),
  }),
});

builder.prismaNode("WebhookDelivery", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, endpoint: { orgId: apiKeyOrgId(ctx) } }),
  description: "One change sent to one endpoint: the same body and webhook-id on every attempt.",
  fields: (t) => ({
    messageId: t.exposeString("messageId", {
      description: "The webhook-id header: the same on every attempt, and when recovered",
    }),
    type: t.exposeString("type"),
    sequence: t.string({
      description: "The change's sequence (0 for test.ping): order and deduplicate by it",
      resolve: (delivery) => delivery.sequence.toString(),
    }),
    status: t.expose("status", { type: WebhookDeliveryStatusEnum }),
    attempts: t.relation("attempts", { query: { orderBy: [{ at: "asc" }, { id: "asc" }] } }),
    nextAttemptAt: t.expose("nextAttemptAt", {
      type: "DateTime",
      nullable: true,
      description: "null once delivered or given up",
    }),
    body: t.exposeString("payload", { description: "The exact body of every attempt" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.prismaNode("WebhookEndpoint", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, orgId: apiKeyOrgId(ctx) }),
  description: "An endpoint of the org's backend that receives its changes, signed (Standard Webhooks).",
  fields: (t) => ({
    url: t.exposeString("url"),
    description: t.exposeString("description", { nullable: true }),
    types: t.exposeStringList("types", {
      description: 'Empty: every type; "payout.*" selects one object\'s changes',
    }),
    connectionIds: t.field({
      type: ["ID"],
      description: "Empty: every connection of the org",
      resolve: (endpoint) => endpoint.connectionIds.map(connectionGlobalId),
    }),
    enabled: t.exposeBoolean("enabled"),
    disabledReason: t.exposeString("disabledReason", { nullable: true }),
    secretHint: t.exposeString("secretHint", { description: '"whsec_…abcd"' }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    deliveries: t.relatedConnection(
      "deliveries",
      {
        cursor: "id",
        defaultSize: 20,
        maxSize: 100,
        description: "Newest first",
        args: { status: t.arg({ type: [WebhookDeliveryStatusEnum], required: false }) },
        query: (args) => ({
          where: args.status?.length ? { status: { in: args.status } } : {},
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        }),
      },
      { name: "WebhookDeliveryConnection" },
      { name: "WebhookDeliveryEdge" },
    ),
  }),
});

builder.prismaObjectField("Org", "webhookEndpoints", (t) =>
  t.relation("webhookEndpoints", {
    description: "Oldest first",
    authScopes: { apiKey: true },
    query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] },
  }),
);

const CreateWebhookEndpointInput = builder.inputType("CreateWebhookEndpointInput", {
  fields: (t) => ({
    url: t.string({ required: true, description: "https:// (http:// only to localhost outside production)" }),
    description: t.string({ required: false }),
    types: t.stringList({ required: false, description: 'Exact types or "payout.*"; none: every type' }),
    connectionIds: t.idList({ required: false, description: "None: every connection of the org" }),
  }),
});

const UpdateWebhookEndpointInput = builder.inputType("UpdateWebhookEndpointInput", {
  fields: (t) => ({
    url: t.string({ required: false }),
    description: t.string({ required: false }),
    types: t.stringList({ required: false }),
    connectionIds: t.idList({ required: false }),
    enabled: t.boolean({
      required: false,
      description: "true resumes where it stopped: its waiting deliveries, then every change since",
    }),
  }),
});

type EndpointResult = { endpointId: string };

const endpointField = <T extends EndpointResult>(t: PothosObjectFieldBuilder<T>) =>
  t.prismaField({
    type: "WebhookEndpoint",
    resolve: (query, result, _args, ctx) =>
      ctx.deps.db.prisma.webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: result.endpointId } }),
  });

type SchemaTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;
type PothosObjectFieldBuilder<T extends object> = PothosSchemaTypes.ObjectFieldBuilder<SchemaTypes, T>;

const CreateWebhookEndpointSuccess = builder
  .objectRef<EndpointResult & { secret: string }>("CreateWebhookEndpointSuccess")
  .implement({
    fields: (t) => ({
      endpoint: endpointField(t),
      secret: t.exposeString("secret", {
        description: "whsec_…: shown this once. Verify deliveries with it.",
      }),
    }),
  });

const UpdateWebhookEndpointSuccess = builder
  .objectRef<EndpointResult>("UpdateWebhookEndpointSuccess")
  .implement({ fields: (t) => ({ endpoint: endpointField(t) }) });

const DeleteWebhookEndpointSuccess = builder
  .objectRef<{ deletedId: string }>("DeleteWebhookEndpointSuccess")
  .implement({ fields: (t) => ({ deletedId: t.exposeID("deletedId") }) });

const RotateWebhookEndpointSecretSuccess = builder
  .objectRef<EndpointResult & { secret: string }>("RotateWebhookEndpointSecretSuccess")
  .implement({
    fields: (t) => ({
      endpoint: endpointField(t),
      secret: t.exposeString("secret", {
        description: "The new whsec_… secret, shown this once; the old one signs too until the grace ends",
      }),
    }),
  });

const RecoverWebhookDeliveriesSuccess = builder
  .objectRef<EndpointResult & { scheduled: number }>("RecoverWebhookDeliveriesSuccess")
  .implement({ fields: (t) => ({ endpoint: endpointField(t), scheduled: t.exposeInt("scheduled") }) });

const SendTestWebhookSuccess = builder.objectRef<{ deliveryId: string }>("SendTestWebhookSuccess").implement({
  fields: (t) => ({
    delivery: t.prismaField({
      type: "WebhookDelivery",
      resolve: (query, result, _args, ctx) =>
        ctx.deps.db.prisma.webhookDelivery.findUniqueOrThrow({ ...query, where: { id: result.deliveryId } }),
    }),
  }),
});

const endpointDeps = (ctx: Context): EndpointDeps => ({
  db: ctx.deps.db,
  secrets: ctx.deps.secrets,
  clock: ctx.deps.clock,
  policy: ctx.deps.webhookPolicy,
});

const endpointIdOf = (id: string | number) => rowIdOrNone(id, "WebhookEndpoint");

/** Connection ID arguments as row ids; one that names no connection stays, to be refused as not the org's. */
const connectionRowIds = (ids: readonly (string | number)[] | null | undefined) =>
  ids?.map((id) => rowIdOf(String(id), "StripeConnection") ?? String(id));

const endpointInput = (input: {
  url?: string | null;
  description?: string | null;
  types?: string[] | null;
  connectionIds?: (string | number)[] | null;
  enabled?: boolean | null;
}): EndpointInput => ({ ...input, connectionIds: connectionRowIds(input.connectionIds) });

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: CreateWebhookEndpointSuccess,
    description:
      "An endpoint that receives the org's changes from now on, signed with the secret returned once.",
    authScopes: { apiKey: true },
    errors: { types: [ValidationError], union: { name: "CreateWebhookEndpointResult" } },
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const created = await createEndpoint(endpointDeps(ctx), ctx.org!.id, {
        ...endpointInput(input),
        url: input.url,
      });
      ctx.deps.webhooks.wake();
      return { endpointId: created.endpoint.id, secret: created.secret };
    },
  }),
  updateWebhookEndpoint: t.field({
    type: UpdateWebhookEndpointSuccess,
    authScopes: { apiKey: true },
    errors: { types: [ValidationError, NotFoundError], union: { name: "UpdateWebhookEndpointResult" } },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateWebhookEndpointInput, required: true }),
    },
    resolve: async (_root, { id, input }, ctx) => {
      const endpoint = await updateEndpoint(
        endpointDeps(ctx),
        ctx.org!.id,
        endpointIdOf(id),
        endpointInput(input),
      );
      if (endpoint.enabled) ctx.deps.webhooks.wake();
      return { endpointId: endpoint.id };
    },
  }),
  deleteWebhookEndpoint: t.field({
    type: DeleteWebhookEndpointSuccess,
    description: "Deletes the endpoint with its deliveries; nothing more is sent to it.",
    authScopes: { apiKey: true },
    errors: { types: [NotFoundError], union: { name: "DeleteWebhookEndpointResult" } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteEndpoint(endpointDeps(ctx), ctx.org!.id, endpointIdOf(id));
      return { deletedId: String(id) };
    },
  }),
  rotateWebhookEndpointSecret: t.field({
    type: RotateWebhookEndpointSecretSuccess,
    description: "A new secret; the old one keeps signing beside it for graceSeconds (default 86,400).",
    authScopes: { apiKey: true },
    errors: {
      types: [ValidationError, NotFoundError],
      union: { name: "RotateWebhookEndpointSecretResult" },
    },
    args: { id: t.arg.id({ required: true }), graceSeconds: t.arg.int({ required: false }) },
    resolve: async (_root, { id, graceSeconds }, ctx) => {
      const rotated = await rotateEndpointSecret(
        endpointDeps(ctx),
        ctx.org!.id,
        endpointIdOf(id),
        graceSeconds,
      );
      return { endpointId: rotated.endpoint.id, secret: rotated.secret };
    },
  }),
  recoverWebhookDeliveries: t.field({
    type: RecoverWebhookDeliveriesSuccess,
    description:
      "Sends again every change since `since` that the endpoint selects, as new deliveries with the same webhook-ids.",
    authScopes: { apiKey: true },
    errors: {
      types: [ValidationError, NotFoundError],
      union: { name: "RecoverWebhookDeliveriesResult" },
    },
    args: { id: t.arg.id({ required: true }), since: t.arg({ type: "DateTime", required: true }) },
    resolve: async (_root, { id, since }, ctx) => {
      const endpointId = endpointIdOf(id);
      const scheduled = await recoverDeliveries(
        ctx.deps,
        ctx.org!.id,
        endpointId,
        since,
        ctx.deps.clock.now(),
      );
      ctx.deps.webhooks.wake();
      return { endpointId, scheduled };
    },
  }),
  sendTestWebhook: t.field({
    type: SendTestWebhookSuccess,
    description: 'A "test.ping" delivery, sent and retried like any other.',
    authScopes: { apiKey: true },
    errors: { types: [NotFoundError], union: { name: "SendTestWebhookResult" } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const deliveryId = await scheduleTestPing(
        ctx.deps,
        ctx.org!.id,
        endpointIdOf(id),
        ctx.deps.clock.now(),
      );
      ctx.deps.webhooks.wake();
      return { deliveryId };
    },
  }),
}));
