import { ValidationError } from "../errors.ts";
import { type ManifestOptions, parseManifestOptions } from "./options.ts";
import { STRIPE_APP_PERMISSIONS, type StripeAppPermission } from "./permissions.ts";
import { shellQuote } from "./shell-quote.ts";

/** The fields of `stripe-app.json` that the gateway writes, in the order Stripe's docs show them. */
export type StripeAppManifestJson = {
  id: string;
  version: string;
  name: string;
  icon: string;
  permissions: StripeAppPermission[];
  stripe_api_access_type: "oauth";
  distribution_type: "public";
  allowed_redirect_uris: string[];
  sandbox_install_compatible: boolean;
};

export type GeneratedStripeAppManifest = {
  json: StripeAppManifestJson;
  /** The file as written: two-space JSON with a final newline, like the Stripe CLI writes it. */
  text: string;
  permissions: StripeAppPermission[];
  /** `stripe apps grant permission "NAME" "PURPOSE"` lines, shell-quoted. */
  grantCommands: string[];
};

export function grantCommand({ permission, purpose }: StripeAppPermission): string {
  return `stripe apps grant permission ${shellQuote(permission)} ${shellQuote(purpose)}`;
}

/**
 * A complete stripe-app.json for an org, per the setup guide: an OAuth, public app with no UI (no
 * `ui_extension`, as Stripe's OAuth manifest example has none), the org's redirect URI and the twelve
 * read permissions. Throws ValidationError for a bad app id, name or version.
 */
export function generateStripeAppManifest(
  input: { redirectUri: string } & ManifestOptions,
): GeneratedStripeAppManifest {
  const options = parseManifestOptions(input);
  if (!options.ok) throw new ValidationError(options.errors);
  const permissions = STRIPE_APP_PERMISSIONS.map((entry) => ({ ...entry }));
  const json: StripeAppManifestJson = {
    id: options.value.appId,
    version: options.value.version,
    name: options.value.name,
    // An empty icon is valid until the app is listed; Stripe wants a 300x300 PNG path like ./icon.png.
    icon: "",
    permissions,
    stripe_api_access_type: "oauth",
    distribution_type: "public",
    allowed_redirect_uris: [input.redirectUri],
    // Required for Marketplace apps since 2025-02-03.
    sandbox_install_compatible: true,
  };
  return {
    json,
    text: `${JSON.stringify(json, null, 2)}\n`,
    permissions,
    grantCommands: permissions.map(grantCommand),
  };
}
