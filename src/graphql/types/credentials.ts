// The org's credentials: named API keys for its backend, and access tokens its backend mints for one end
// user's browser. Secrets are shown once, when created; only their hashes are stored.
import { NotFoundError, ValidationError } from "../../errors.ts";
import { createAccessToken, revokeAccessToken } from "../../orgs/access-tokens.ts";
import { createApiKey, revokeOrgApiKey } from "../../orgs/api-keys.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { rowIdOrNone } from "../ids.ts";
import { apiKeyOrgId } from "../scope.ts";
import { connectionGlobalId } from "../stripe-objects.ts";

/** Only the org's API key sees or finds its credentials (a browser token sees none). */
const ownedByKeyOrg = (id: string, ctx: Context) => ({
  id,
  orgId: apiKeyOrgId(ctx),
});

builder.prismaNode("ApiKey", {
  id: { field: "id" },
  nullable: true,
  findUnique: ownedByKeyOrg,
  fields: (t) => ({
    name: t.exposeString("name"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "When the key last authenticated a request, to the minute",
    }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
  }),
});

builder.prismaNode("AccessToken", {
  id: { field: "id" },
  nullable: true,
  findUnique: ownedByKeyOrg,
  fields: (t) => ({
    connectionIds: t.field({
      type: ["ID"],
      description: "The connections it may read (one it started included)",
      resolve: (token) => token.connectionIds.map(connectionGlobalId),
    }),
    allowConnect: t.exposeBoolean("allowConnect"),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.prismaObjectField("Org", "apiKeys", (t) =>
  t.relation("apiKeys", {
    description: "Names and dates only, oldest first",
    query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] },
  }),
);

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  fields: (t) => ({ name: t.string({ required: true }) }),
});

const CreateAccessTokenInput = builder.inputType("CreateAccessTokenInput", {
  fields: (t) => ({
    connectionIds: t.idList({ required: true, description: "Connections of the org it may read" }),
    allowConnect: t.boolean({
      required: false,
      description: "May call startStripeConnection once; the connection it starts joins its scope",
    }),
    metadata: t.field({
      type: "JSON",
      required: false,
      description: "The metadata of the connection it starts (the browser cannot change it)",
    }),
    expiresInSeconds: t.int({ required: false, description: "Default 900, at most 86,400" }),
  }),
});

const CreateApiKeySuccess = builder
  .objectRef<{ apiKey: string; key: { id: string } }>("CreateApiKeySuccess")
  .implement({
    fields: (t) => ({
      apiKey: t.exposeString("apiKey", { description: "Shown this once: store it now." }),
      key: t.prismaField({
        type: "ApiKey",
        resolve: (query, result, _args, ctx) =>
          ctx.deps.db.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: result.key.id } }),
      }),
    }),
  });

const RevokeApiKeySuccess = builder.objectRef<{ keyId: string }>("RevokeApiKeySuccess").implement({
  fields: (t) => ({
    key: t.prismaField({
      type: "ApiKey",
      resolve: (query, result, _args, ctx) =>
        ctx.deps.db.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: result.keyId } }),
    }),
  }),
});

const CreateAccessTokenSuccess = builder
  .objectRef<{ token: string; tokenId: string }>("CreateAccessTokenSuccess")
  .implement({
    fields: (t) => ({
      token: t.exposeString("token", {
        description: "Shown this once: hand it to the end user's browser, as `Authorization: Bearer`.",
      }),
      accessToken: t.prismaField({
        type: "AccessToken",
        resolve: (query, result, _args, ctx) =>
          ctx.deps.db.prisma.accessToken.findUniqueOrThrow({ ...query, where: { id: result.tokenId } }),
      }),
    }),
  });

const RevokeAccessTokenSuccess = builder
  .objectRef<{ tokenId: string }>("RevokeAccessTokenSuccess")
  .implement({
    fields: (t) => ({
      accessToken: t.prismaField({
        type: "AccessToken",
        resolve: (query, result, _args, ctx) =>
          ctx.deps.db.prisma.accessToken.findUniqueOrThrow({ ...query, where: { id: result.tokenId } }),
      }),
    }),
  });

const deps = (ctx: Context) => ({ prisma: ctx.deps.db.prisma, pubsub: ctx.deps.pubsub });

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeySuccess,
    description: "Another named API key of the org, for its backend.",
    authScopes: { apiKey: true },
    errors: { types: [ValidationError], union: { name: "CreateApiKeyResult" } },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApiKey(deps(ctx), ctx.org!.id, input),
  }),
  revokeApiKey: t.field({
    type: RevokeApiKeySuccess,
    description: "From now on the key authenticates nothing, on every instance within a second.",
    authScopes: { apiKey: true },
    errors: { types: [NotFoundError], union: { name: "RevokeApiKeyResult" } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const key = await revokeOrgApiKey(
        deps(ctx),
        ctx.org!.id,
        rowIdOrNone(id, "ApiKey"),
        ctx.deps.clock.now(),
      );
      return { keyId: key.id };
    },
  }),
  createAccessToken: t.field({
    type: CreateAccessTokenSuccess,
    description:
      "A token for one end user's browser: reads the listed connections only, expires (default 15 min).",
    authScopes: { apiKey: true },
    errors: { types: [ValidationError, NotFoundError], union: { name: "CreateAccessTokenResult" } },
    args: { input: t.arg({ type: CreateAccessTokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const created = await createAccessToken(
        deps(ctx),
        ctx.org!.id,
        {
          connectionIds: input.connectionIds.map((id) => rowIdOrNone(id, "StripeConnection")),
          allowConnect: input.allowConnect,
          metadata: input.metadata,
          expiresInSeconds: input.expiresInSeconds,
        },
        ctx.deps.clock.now(),
      );
      return { token: created.token, tokenId: created.accessToken.id };
    },
  }),
  revokeAccessToken: t.field({
    type: RevokeAccessTokenSuccess,
    description: "Ends the token at once on every instance; its open subscriptions close.",
    authScopes: { apiKey: true },
    errors: { types: [NotFoundError], union: { name: "RevokeAccessTokenResult" } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const token = await revokeAccessToken(
        deps(ctx),
        ctx.org!.id,
        rowIdOrNone(id, "AccessToken"),
        ctx.deps.clock.now(),
      );
      return { tokenId: token.id };
    },
  }),
}));
