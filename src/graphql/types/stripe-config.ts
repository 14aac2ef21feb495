import { ValidationError } from "../../errors.ts";
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
  .objectRef<{ org: Org; stripeConfig: StripeConfig }>("SetStripeConfigSuccess")
  .implement({
    fields: (t) => ({
      org: t.field({ type: OrgRef, resolve: (result) => result.org }),
      stripeConfig: t.field({ type: StripeConfigRef, resolve: (result) => result.stripeConfig }),
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
      };
      const stripeConfig = await setStripeConfig(deps, ctx.org!.id, input);
      return { org: ctx.org!, stripeConfig };
    },
  }),
);
