import { ValidationError } from "../../errors.ts";
import type { Org } from "../../generated/prisma/client.ts";
import { createOrg, orgRedirectUri, orgWebhookUrl } from "../../orgs/orgs.ts";
import { builder } from "../builder.ts";
import { apiKeyOrgId } from "../scope.ts";

export const OrgRef = builder.prismaNode("Org", {
  id: { field: "id" },
  nullable: true,
  // an org key only ever finds its own org (node(id) answers null for any other); the admin key finds any;
  // a browser token none
  findUnique: (id, ctx) => (ctx.isAdmin ? { id } : { id, AND: [{ id: apiKeyOrgId(ctx) }] }),
  fields: (t) => ({
    plainId: t.exposeString("id", {
      description:
        "The org's own id (org_…), as the redirect and webhook URLs and the CLI show it; every ID argument and the CLI's --org-id take it as well as `id`.",
    }),
    name: t.exposeString("name"),
    redirectUri: t.string({
      description: "Paste into stripe-app.json `allowed_redirect_uris` (or Connect settings for legacy).",
      resolve: (org, _args, ctx) => orgRedirectUri(ctx.deps.config.publicUrl, org.id),
    }),
    webhookUrl: t.string({
      description: "The endpoint URL of the Stripe webhook destination (Connected accounts).",
      resolve: (org, _args, ctx) => orgWebhookUrl(ctx.deps.config.publicUrl, org.id),
    }),
    stripeConfig: t.relation("stripeConfig", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.queryField("viewer", (t) =>
  t.prismaField({
    type: "Org",
    description: "The org of the API key.",
    authScopes: { apiKey: true },
    // The key's org row is in memory already (src/orgs/cache.ts): read again only for its relations.
    resolve: (query, _root, _args, ctx) =>
      query.include || query.select
        ? ctx.deps.db.prisma.org.findUniqueOrThrow({ ...query, where: { id: ctx.org!.id } })
        : ctx.org!,
  }),
);

const CreateOrgInput = builder.inputType("CreateOrgInput", {
  fields: (t) => ({ name: t.string({ required: true }) }),
});

const CreateOrgSuccess = builder.objectRef<{ org: Org; apiKey: string }>("CreateOrgSuccess").implement({
  fields: (t) => ({
    org: t.field({ type: OrgRef, resolve: (result) => result.org }),
    apiKey: t.exposeString("apiKey", { description: "Shown this once: store it now." }),
  }),
});

builder.mutationField("createOrg", (t) =>
  t.field({
    type: CreateOrgSuccess,
    description: "Creates an org and its first API key. Needs ADMIN_API_KEY.",
    authScopes: { admin: true },
    errors: { types: [ValidationError], union: { name: "CreateOrgResult" } },
    args: { input: t.arg({ type: CreateOrgInput, required: true }) },
    resolve: (_root, { input }, ctx) => createOrg(ctx.deps.db.prisma, input, ctx.deps.pubsub),
  }),
);
