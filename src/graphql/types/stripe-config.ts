import {
  type RegisteredWebhookEndpoint,
  registerWebhookEndpoint,
} from "../../connections/webhook-endpoint.ts";
import { StripeNotConfiguredError, ValidationError } from "../../errors.ts";
import type { Org, StripeConfig } from "../../generated/prisma/client.ts";
import { StripeConnectMethod } from "../../generated/prisma/enums.ts";
import { setStripeConfig } from "../../orgs/stripe-config.ts";
import { builder } from "../builder.ts";
import { OrgRef } from "./org.ts";

export const StripeConnectMethodEnum = builder.enumType(StripeConnectMethod, { name: "StripeConnectMethod" });

const StripeConfigRef = builder.prismaObject("StripeConfig", {
  fields: (t) => ({
    connectMethod: t.expose("connectMethod", { type: StripeConnectMethodEnum }),
    clientId: t.exposeString("clientId"),
    secretKeyHint: t.exposeString("secretKeyHint", {
      description: 'e.g. "sk_live_…4242": never the key itself',
    }),
    livemode: t.exposeBoolean("livemode", { description: "From the secret key's prefix." }),
    customAuthorizationUrl: t.exposeString("customAuthorizationUrl", { nullable: true }),
    webhookSigningSecretSet: t.boolean({
      select: { webhookSecretCiphertext: true },
      resolve: (config) => config.webhookSecretCiphertext !== null,
    }),
    defaultReturnUrl: t.exposeString("defaultReturnUrl", { nullable: true }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

const SetStripeConfigInput = builder.inputType("SetStripeConfigInput", {
  description:
    "First call: clientId and secretKey are required. Later calls change only the fields given; an explicit null clears an optional field.",
  fields: (t) => ({
    connectMethod: t.field({ type: StripeConnectMethodEnum, required: false }),
    clientId: t.string({ required: false, description: "ca_…" }),
    secretKey: t.string({ required: false, description: "sk_live_… / sk_test_… / rk_live_… / rk_test_…" }),
    customAuthorizationUrl: t.string({
      required: false,
      description: "https://marketplace.stripe.com/oauth/v2/chnlink_…/authorize, without query parameters",
    }),
    webhookSigningSecret: t.string({ required: false, description: "whsec_…" }),
    defaultReturnUrl: t.string({
      required: false,
      description: "Where the merchant's browser goes after OAuth.",
    }),
  }),
});

const SetStripeConfigSuccess = builder
  .objectRef<{ org: Org; stripeConfig: StripeConfig; warnings: string[] }>("SetStripeConfigSuccess")
  .implement({
    fields: (t) => ({
      org: t.field({ type: OrgRef, resolve: (result) => result.org }),
      stripeConfig: t.field({ type: StripeConfigRef, resolve: (result) => result.stripeConfig }),
      warnings: t.exposeStringList("warnings", {
        description:
          "What to know about what was saved, e.g. a secret key saved unchecked because Stripe could not be reached.",
      }),
    }),
  });

builder.mutationField("setStripeConfig", (t) =>
  t.field({
    type: SetStripeConfigSuccess,
    authScopes: { apiKey: true },
    errors: { types: [ValidationError], union: { name: "SetStripeConfigResult" } },
    args: { input: t.arg({ type: SetStripeConfigInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { prisma } = ctx.deps.db;
      const deps = {
        prisma,
        secrets: ctx.deps.secrets,
        marketplaceUrl: ctx.deps.config.stripe.marketplaceUrl,
        pubsub: ctx.deps.pubsub,
        checkSecretKey: (secretKey: string) => ctx.deps.stripePlatform.checkSecretKey(secretKey),
      };
      const { stripeConfig, warnings } = await setStripeConfig(deps, ctx.org!.id, input);
      return { org: ctx.org!, stripeConfig, warnings };
    },
  }),
);

const RegisterStripeWebhookEndpointSuccess = builder
  .objectRef<RegisteredWebhookEndpoint>("RegisterStripeWebhookEndpointSuccess")
  .implement({
    fields: (t) => ({
      stripeConfig: t.field({ type: StripeConfigRef, resolve: (result) => result.stripeConfig }),
      endpointId: t.exposeString("endpointId", { description: "we_…: the endpoint on Stripe" }),
      url: t.exposeString("url", { description: "The org's webhookUrl, where Stripe sends the events." }),
      enabledEvents: t.exposeStringList("enabledEvents", {
        description: "The event types it sends: every type the gateway applies.",
      }),
      replacedEndpointIds: t.exposeStringList("replacedEndpointIds", {
        description: "The org's earlier endpoints at the same URL, deleted on Stripe.",
      }),
      warnings: t.exposeStringList("warnings"),
    }),
  });

builder.mutationField("registerStripeWebhookEndpoint", (t) =>
  t.field({
    type: RegisterStripeWebhookEndpointSuccess,
    description:
      "Creates the org's Connect webhook endpoint on Stripe (POST /v1/webhook_endpoints with the org's secret key: its webhookUrl, connect=true, the event types the gateway applies) and stores its signing secret. Registering again replaces the org's endpoint at that URL.",
    authScopes: { apiKey: true },
    errors: {
      types: [StripeNotConfiguredError, ValidationError],
      union: { name: "RegisterStripeWebhookEndpointResult" },
    },
    resolve: (_root, _args, ctx) => registerWebhookEndpoint(ctx.deps, ctx.org!.id),
  }),
);
