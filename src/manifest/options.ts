import { z } from "zod";
import { rowIdOf } from "../graphql/ids.ts";

export const DEFAULT_APP_ID = "com.example.stripe-connect-gateway";
export const DEFAULT_APP_NAME = "Stripe Connect Gateway";
export const DEFAULT_APP_VERSION = "0.0.1";

// Stripe's manifest schema (stripe/stripe-apps schema/stripe-app.schema.json): id matches
// ^[a-zA-Z0-9_\-\.]+$, version and name are non-empty strings. Ids are globally unique on Stripe.
export const APP_ID_PATTERN = /^[a-zA-Z0-9_.-]+$/;

export const appIdSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters")
  .regex(APP_ID_PATTERN, "may contain only letters, digits, '.', '_' and '-' (e.g. com.acme.gateway)");

export const appNameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters");

export const appVersionSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(50, "must be at most 50 characters")
  .regex(/^\S+$/, "must not contain spaces");

/**
 * An org id as the gateway issues it (`org_` and hex), or the org's GraphQL id (`viewer { id }`), which
 * names the same org; checked so a typo fails before a file is written. Gives the plain id.
 */
export const orgIdSchema = z
  .string()
  .trim()
  .transform((value) => rowIdOf(value, "Org") ?? value)
  .pipe(z.string().regex(/^org_[A-Za-z0-9]+$/, "must look like org_… (or be the org's GraphQL id)"));

export type ManifestOptions = { appId?: string | null; name?: string | null; version?: string | null };

const optionsSchema = z.object({
  appId: appIdSchema.nullish(),
  name: appNameSchema.nullish(),
  version: appVersionSchema.nullish(),
});

/** Applies defaults; lists every bad option at once as `{ path, message }`. */
export function parseManifestOptions(
  options: ManifestOptions,
):
  | { ok: true; value: { appId: string; name: string; version: string } }
  | { ok: false; errors: { path: string[]; message: string }[] } {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })),
    };
  }
  return {
    ok: true,
    value: {
      appId: parsed.data.appId ?? DEFAULT_APP_ID,
      name: parsed.data.name ?? DEFAULT_APP_NAME,
      version: parsed.data.version ?? DEFAULT_APP_VERSION,
    },
  };
}
