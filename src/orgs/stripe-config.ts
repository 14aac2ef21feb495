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

/**
 * What Stripe said of a secret key (`GET /v1/account` with it); `message` for people. Declared here so
 * that orgs/ stays below stripe/: the caller passes Stripe's check in.
 */
export type SecretKeyCheck = (secretKey: string) => Promise<{
  outcome: "accepted" | "rejected" | "unchecked";
  message: string | null;
}>;

const API_KEYS_PAGE = "the Stripe Dashboard → Developers → API keys";

/** The README's own example values, pasted as they are. */
const README_PLACEHOLDERS = new Set([
  "sk_live_…",
  "sk_test_…",
  "sk_test_...",
  "sk_live_...",
  "ca_…",
  "whsec_…",
]);

/** An example or template rather than a value: ellipses, angle brackets, or a prefix with nothing after it. */
function placeholderKind(value: string): "readme" | "placeholder" | null {
  if (README_PLACEHOLDERS.has(value)) return "readme";
  if (/…|\.\.\.|[<>\s]|^(sk|rk|pk)_(live|test)_$|^(ca|whsec)_$/.test(value)) return "placeholder";
  return null;
}

function placeholderMessage(value: string, what: string): string | null {
  const kind = placeholderKind(value);
  if (kind === "readme") return `this is the README's placeholder, not a value: ${what}`;
  if (kind === "placeholder") return `this is a placeholder, not a value: ${what}`;
  return null;
}

const SECRET_KEY_HOWTO = `paste the secret key (sk_live_… or sk_test_…, then letters and digits) from ${API_KEYS_PAGE}`;
const CLIENT_ID_HOWTO =
  'paste the OAuth client id: the client_id parameter (ca_…) of the app\'s "Live mode link" on its Settings tab (legacy Connect: Connect settings)';

/** The problem with a secret key's form (what it looks like it is instead), or null. */
function secretKeyProblem(value: string): string | null {
  const placeholder = placeholderMessage(value, SECRET_KEY_HOWTO);
  if (placeholder) return placeholder;
  if (/^(sk|rk)_(live|test)_[A-Za-z0-9]+$/.test(value)) return null;
  if (/^pk_(live|test)_/.test(value))
    return `this is a publishable key (pk_…, the one browsers use): ${SECRET_KEY_HOWTO}`;
  if (/^ca_/.test(value))
    return `this is an OAuth client id (ca_…), which goes in clientId: ${SECRET_KEY_HOWTO}`;
  if (/^whsec_/.test(value))
    return `this is a webhook signing secret (whsec_…), which goes in webhookSigningSecret: ${SECRET_KEY_HOWTO}`;
  return "must be a Stripe secret key starting with sk_live_, sk_test_, rk_live_ or rk_test_";
}

function clientIdProblem(value: string): string | null {
  const placeholder = placeholderMessage(value, CLIENT_ID_HOWTO);
  if (placeholder) return placeholder;
  if (/^ca_[A-Za-z0-9]+$/.test(value)) return null;
  if (/^(sk|rk)_(live|test)_/.test(value))
    return `this is a secret key, which goes in secretKey: ${CLIENT_ID_HOWTO}`;
  if (/^pk_(live|test)_/.test(value)) return `this is a publishable key (pk_…): ${CLIENT_ID_HOWTO}`;
  return "must be an OAuth client id starting with ca_ (from the app's Settings tab)";
}

function signingSecretProblem(value: string): string | null {
  const placeholder = placeholderMessage(
    value,
    "paste the signing secret (whsec_…) of your webhook destination, or let registerStripeWebhookEndpoint create the destination and store its secret",
  );
  if (placeholder) return placeholder;
  if (/^whsec_[A-Za-z0-9+/=_-]+$/.test(value)) return null;
  return "must be a webhook signing secret starting with whsec_";
}

/** A trimmed string checked by `problem` (one message per field). */
const checkedString = (problem: (value: string) => string | null) =>
  z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      const message = problem(value);
      if (message) ctx.addIssue({ code: "custom", message });
    });

function fieldSchemas(marketplaceUrl: string) {
  const marketplace = new URL(marketplaceUrl);
  return {
    connectMethod: z.enum(["STRIPE_APP", "LEGACY_CONNECT"]),
    clientId: checkedString(clientIdProblem),
    secretKey: checkedString(secretKeyProblem),
    customAuthorizationUrl: z
      .string()
      .trim()
      .superRefine((value, ctx) => {
        const problem = customAuthorizationUrlProblem(value, marketplace);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    webhookSigningSecret: checkedString(signingSecretProblem),
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

export type SetStripeConfigDeps = {
  prisma: PrismaClient;
  secrets: SecretBox;
  marketplaceUrl: string;
  pubsub?: Pick<GatewayPubSub, "publish">;
  /** Asks Stripe whether it takes a new secret key; without it (scripts) keys are saved as given. */
  checkSecretKey?: SecretKeyCheck;
};

/** The saved config, and what the org should know about it (a key saved without Stripe's word on it). */
export type SetStripeConfigResult = { stripeConfig: StripeConfig; warnings: string[] };

/**
 * Saves the given fields of an org's Stripe config (secrets encrypted); nothing is saved when any is
 * invalid, or when Stripe refuses a new secret key. A key Stripe could not be asked about is saved, with a
 * warning. With `pubsub`, every instance's cache (src/orgs/cache.ts) drops the org's webhook signing
 * secret at once; without it (scripts), within the cache's max age.
 */
export async function setStripeConfig(
  deps: SetStripeConfigDeps,
  orgId: string,
  input: SetStripeConfigInput,
): Promise<SetStripeConfigResult> {
  const existing = await deps.prisma.stripeConfig.findUnique({ where: { orgId } });
  const checked = validateStripeConfigInput(input, existing, deps.marketplaceUrl);
  const warnings: string[] = [];
  if (checked.secretKey && deps.checkSecretKey) {
    // Before anything is written, and outside any transaction: Stripe may take seconds to answer.
    const verdict = await deps.checkSecretKey(checked.secretKey);
    if (verdict.outcome === "rejected") {
      throw new ValidationError([
        {
          path: ["input", "secretKey"],
          message: `Stripe refused this key (${verdict.message}): copy the whole secret key again from ${API_KEYS_PAGE}, in the mode you mean (live or test)`,
        },
      ]);
    }
    if (verdict.outcome === "unchecked") {
      warnings.push(
        `The secret key was saved without Stripe's check: ${verdict.message}. A wrong key shows when the first account connects; save it again to check it.`,
      );
    } else if (verdict.message) warnings.push(verdict.message);
  }
  const stripeConfig = await saveStripeConfig(deps, orgId, existing, checked);
  deps.pubsub?.publish("cache:invalidate", { kind: "org", key: orgId });
  return { stripeConfig, warnings };
}

async function saveStripeConfig(
  deps: { prisma: PrismaClient; secrets: SecretBox },
  orgId: string,
  existing: StripeConfig | null,
  checked: Checked,
): Promise<StripeConfig> {
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
export function openSecretKey(
  secrets: SecretBox,
  config: Pick<StripeConfig, "orgId" | "secretKeyCiphertext">,
): string {
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
