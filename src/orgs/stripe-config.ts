import { z } from "zod";
import type { PrismaClient } from "../db/client.ts";
import { type FieldError, ValidationError } from "../errors.ts";
import type { StripeConfig, StripeConnectMethod } from "../generated/prisma/client.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { type SecretBox, secretHint } from "./secrets.ts";

/** `undefined`: leave as is; `null`: clear (optional fields only). */
export type SetStripeConfigInput = {
  connectMethod?: StripeConnectMethod | null;
  clientId?: string | null;
  secretKey?: string | null;
  customAuthorizationUrl?: string | null;
  webhookSigningSecret?: string | null;
  defaultReturnUrl?: string | null;
};

const REQUIRED = ["connectMethod", "clientId", "secretKey"] as const;

function fieldSchemas(marketplaceUrl: string) {
  const marketplace = new URL(marketplaceUrl);
  return {
    connectMethod: z.enum(["STRIPE_APP", "LEGACY_CONNECT"]),
    clientId: z
      .string()
      .trim()
      .regex(
        /^ca_[A-Za-z0-9]+$/,
        "must be an OAuth client id starting with ca_ (from the app's Settings tab)",
      ),
    secretKey: z
      .string()
      .trim()
      .regex(
        /^(sk|rk)_(live|test)_[A-Za-z0-9]+$/,
        "must be a Stripe secret key starting with sk_live_, sk_test_, rk_live_ or rk_test_",
      ),
    customAuthorizationUrl: z
      .string()
      .trim()
      .superRefine((value, ctx) => {
        const problem = customAuthorizationUrlProblem(value, marketplace);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    webhookSigningSecret: z
      .string()
      .trim()
      .regex(/^whsec_[A-Za-z0-9+/=_-]+$/, "must be a webhook signing secret starting with whsec_"),
    defaultReturnUrl: z
      .string()
      .trim()
      .refine(
        (value) => /^https?:$/.test(URL.parse(value)?.protocol ?? ""),
        "must be an absolute http(s) URL",
      ),
  };
}

function customAuthorizationUrlProblem(value: string, marketplace: URL): string | null {
  const url = URL.parse(value);
  if (!url) return "must be an absolute URL";
  if (url.search || value.includes("?")) {
    return "must not have query parameters: copy the External test link without everything from '?' on (client_id, redirect_uri and state are added by the gateway)";
  }
  if (url.origin !== marketplace.origin) {
    return `must be on ${marketplace.origin} (the Stripe Marketplace), got ${url.origin}`;
  }
  if (url.hash) return "must not have a #fragment";
  if (!/^\/oauth\/v2\/[A-Za-z0-9_]+\/authorize$/.test(url.pathname)) {
    return "must look like https://marketplace.stripe.com/oauth/v2/chnlink_…/authorize (the External test link)";
  }
  return null;
}

type Checked = Partial<Record<keyof SetStripeConfigInput, string | null>>;

/** Validates every given field at once; throws a ValidationError listing each problem. */
function validateStripeConfigInput(
  input: SetStripeConfigInput,
  existing: StripeConfig | null,
  marketplaceUrl: string,
): Checked {
  const schemas = fieldSchemas(marketplaceUrl);
  const problems: FieldError[] = [];
  const checked: Checked = {};
  for (const field of Object.keys(schemas) as (keyof typeof schemas)[]) {
    const value = input[field];
    if (value === undefined) continue;
    const path = ["input", field];
    if (value === null) {
      if ((REQUIRED as readonly string[]).includes(field))
        problems.push({ path, message: "cannot be cleared" });
      else checked[field] = null;
      continue;
    }
    const result = schemas[field].safeParse(value);
    if (result.success) checked[field] = result.data;
    else problems.push(...result.error.issues.map((issue) => ({ path, message: issue.message })));
  }
  if (!existing) {
    for (const field of ["clientId", "secretKey"] as const) {
      if (input[field] == null)
        problems.push({ path: ["input", field], message: "is required the first time" });
    }
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return checked;
}

/**
 * Saves the given fields of an org's Stripe config (secrets encrypted); nothing is saved when any is
 * invalid. With `pubsub`, every instance's cache (src/orgs/cache.ts) drops the org's webhook signing
 * secret at once; without it (scripts), within the cache's max age.
 */
export async function setStripeConfig(
  deps: {
    prisma: PrismaClient;
    secrets: SecretBox;
    marketplaceUrl: string;
    pubsub?: Pick<GatewayPubSub, "publish">;
  },
  orgId: string,
  input: SetStripeConfigInput,
): Promise<StripeConfig> {
  const saved = await saveStripeConfig(deps, orgId, input);
  deps.pubsub?.publish("cache:invalidate", { kind: "org", key: orgId });
  return saved;
}

async function saveStripeConfig(
  deps: { prisma: PrismaClient; secrets: SecretBox; marketplaceUrl: string },
  orgId: string,
  input: SetStripeConfigInput,
): Promise<StripeConfig> {
  const existing = await deps.prisma.stripeConfig.findUnique({ where: { orgId } });
  const checked = validateStripeConfigInput(input, existing, deps.marketplaceUrl);
  const data = {
    ...(checked.connectMethod ? { connectMethod: checked.connectMethod as StripeConnectMethod } : {}),
    ...(checked.clientId ? { clientId: checked.clientId } : {}),
    ...(checked.secretKey
      ? {
          secretKeyCiphertext: deps.secrets.seal(checked.secretKey, secretContext(orgId, "secretKey")),
          secretKeyHint: secretHint(checked.secretKey),
          livemode: checked.secretKey.includes("_live_"),
        }
      : {}),
    ...(checked.customAuthorizationUrl !== undefined
      ? { customAuthorizationUrl: checked.customAuthorizationUrl }
      : {}),
    ...(checked.webhookSigningSecret !== undefined
      ? {
          webhookSecretCiphertext:
            checked.webhookSigningSecret === null
              ? null
              : deps.secrets.seal(checked.webhookSigningSecret, secretContext(orgId, "webhookSigningSecret")),
        }
      : {}),
    ...(checked.defaultReturnUrl !== undefined ? { defaultReturnUrl: checked.defaultReturnUrl } : {}),
  };
  if (existing) return deps.prisma.stripeConfig.update({ where: { orgId }, data });
  const { clientId, secretKeyCiphertext, secretKeyHint, livemode } = data;
  if (!clientId || !secretKeyCiphertext || !secretKeyHint || livemode === undefined) {
    throw new Error("validated first config lacks clientId or secretKey");
  }
  // upsert: a concurrent first call for the same org becomes an update instead of a conflict
  return deps.prisma.stripeConfig.upsert({
    where: { orgId },
    create: { ...data, orgId, clientId, secretKeyCiphertext, secretKeyHint, livemode },
    update: data,
  });
}

/** Associated data binding a ciphertext to its org and field, so one cannot be pasted over another. */
function secretContext(orgId: string, field: "secretKey" | "webhookSigningSecret"): string {
  return `org:${orgId}:stripeConfig.${field}`;
}

/** The org's decrypted Stripe secret key; for server-side calls only. */
export function openSecretKey(secrets: SecretBox, config: StripeConfig): string {
  return secrets.open(config.secretKeyCiphertext, secretContext(config.orgId, "secretKey"));
}

/** An org's webhook signing secret (`null`: none is set), or that there is no such org. */
export type WebhookSecretLookup = { org: "missing" } | { org: "found"; secret: string | null };

export async function findWebhookSigningSecret(
  deps: { prisma: PrismaClient; secrets: SecretBox },
  orgId: string,
): Promise<WebhookSecretLookup> {
  const config = await deps.prisma.stripeConfig.findUnique({ where: { orgId } });
  if (config?.webhookSecretCiphertext) {
    return {
      org: "found",
      secret: deps.secrets.open(
        config.webhookSecretCiphertext,
        secretContext(config.orgId, "webhookSigningSecret"),
      ),
    };
  }
  if (config) return { org: "found", secret: null };
  const org = await deps.prisma.org.findUnique({ where: { id: orgId }, select: { id: true } });
  return org ? { org: "found", secret: null } : { org: "missing" };
}
