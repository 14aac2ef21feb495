import { checkPermissions } from "./check-permissions.ts";
import { checkRedirectUris } from "./check-redirect.ts";
import { findJsonSyntaxError } from "./json-error.ts";
import { APP_ID_PATTERN } from "./options.ts";
import { isObject, type JsonObject, type ManifestProblem, problem, shown } from "./problems.ts";

// Stripe's manifest schema: "" or a relative path to a PNG.
const ICON = /^$|^\.\/.*\.png$/;

/**
 * Checks a stripe-app.json text against the setup guide for one org: one problem per mistake, each
 * with its fix; an empty list when the file is right. Invalid JSON is reported alone, with the line
 * and column where the text stops being JSON.
 */
export function checkStripeAppManifest(text: string, expected: { redirectUri: string }): ManifestProblem[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    const at = findJsonSyntaxError(text);
    const where = at ? `line ${at.line}, column ${at.column}: ${at.message}` : (error as Error).message;
    return [
      problem("INVALID_JSON", "", `The file is not valid JSON (${where}).`, "Fix the JSON syntax there."),
    ];
  }
  if (!isObject(manifest)) {
    return [
      problem(
        "NOT_AN_OBJECT",
        "",
        `The file must hold one JSON object, not ${Array.isArray(manifest) ? "an array" : shown(manifest)}.`,
        "Generate the file anew with `manifest generate`.",
      ),
    ];
  }
  return [
    ...checkViews(manifest),
    ...checkAuthentication(manifest),
    ...checkRedirectUris(manifest.allowed_redirect_uris, expected.redirectUri),
    ...checkPermissions(manifest.permissions),
    ...checkSandbox(manifest),
    ...checkIdentity(manifest),
  ];
}

function checkViews(manifest: JsonObject): ManifestProblem[] {
  const views = isObject(manifest.ui_extension) ? manifest.ui_extension.views : undefined;
  if (!Array.isArray(views) || views.length === 0) return [];
  const names = views.map((view) => (isObject(view) ? `${view.component} (${view.viewport})` : shown(view)));
  return [
    problem(
      "UI_EXTENSION_VIEWS",
      "ui_extension.views",
      `ui_extension.views still has ${views.length} ${views.length === 1 ? "entry" : "entries"}: ${names.join(", ")}. The gateway's app has no UI.`,
      "Remove every entry of ui_extension.views and delete the app's src folder.",
    ),
  ];
}

// The authentication method cannot be changed once the app is uploaded, so these two say so.
function checkAuthentication(manifest: JsonObject): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const access = manifest.stripe_api_access_type;
  if (access === undefined) {
    problems.push(
      problem(
        "MISSING_ACCESS_TYPE",
        "stripe_api_access_type",
        'stripe_api_access_type is missing, so Stripe uses "platform" and the app issues no OAuth tokens.',
        'Set "stripe_api_access_type": "oauth" before the first upload (it cannot be changed afterwards).',
      ),
    );
  } else if (access !== "oauth") {
    problems.push(
      problem(
        "WRONG_ACCESS_TYPE",
        "stripe_api_access_type",
        `stripe_api_access_type is ${shown(access)}; the gateway connects accounts through OAuth.`,
        'Set "stripe_api_access_type": "oauth" (if this app was already uploaded with another type, create a new app).',
      ),
    );
  }
  const distribution = manifest.distribution_type;
  if (distribution === undefined) {
    problems.push(
      problem(
        "MISSING_DISTRIBUTION_TYPE",
        "distribution_type",
        'distribution_type is missing, so the app is "private" and only your own team can install it.',
        'Set "distribution_type": "public".',
      ),
    );
  } else if (distribution !== "public") {
    problems.push(
      problem(
        "WRONG_DISTRIBUTION_TYPE",
        "distribution_type",
        `distribution_type is ${shown(distribution)}; OAuth apps that other accounts install must be "public".`,
        'Set "distribution_type": "public".',
      ),
    );
  }
  return problems;
}

function checkSandbox(manifest: JsonObject): ManifestProblem[] {
  if (typeof manifest.sandbox_install_compatible === "boolean") return [];
  return [
    problem(
      "MISSING_SANDBOX_INSTALL_COMPATIBLE",
      "sandbox_install_compatible",
      manifest.sandbox_install_compatible === undefined
        ? "sandbox_install_compatible is missing: Stripe requires Marketplace apps to declare it (true or false)."
        : `sandbox_install_compatible must be true or false, not ${shown(manifest.sandbox_install_compatible)}.`,
      'Set "sandbox_install_compatible": true.',
    ),
  ];
}

function checkIdentity(manifest: JsonObject): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  if (typeof manifest.id !== "string" || !APP_ID_PATTERN.test(manifest.id)) {
    problems.push(
      problem(
        "INVALID_APP_ID",
        "id",
        `id ${manifest.id === undefined ? "is missing" : `${shown(manifest.id)} is not a valid app id`}: it may contain only letters, digits, '.', '_' and '-'.`,
        'Set "id" to a globally unique id such as "com.yourcompany.stripe-gateway".',
      ),
    );
  }
  for (const field of ["version", "name"] as const) {
    const value = manifest[field];
    if (typeof value !== "string" || value.trim() === "") {
      problems.push(
        problem(
          field === "version" ? "INVALID_VERSION" : "INVALID_NAME",
          field,
          `${field} ${value === undefined ? "is missing" : `must be a non-empty string, not ${shown(value)}`}.`,
          field === "version" ? 'Set "version", e.g. "0.0.1".' : 'Set "name" to the name merchants see.',
        ),
      );
    }
  }
  if (typeof manifest.icon !== "string" || !ICON.test(manifest.icon)) {
    problems.push(
      problem(
        "INVALID_ICON",
        "icon",
        `icon ${manifest.icon === undefined ? "is missing" : `${shown(manifest.icon)} is not "" or a relative path to a PNG`}.`,
        'Set "icon": "" or a path like "./icon.png" (a 300x300 PNG).',
      ),
    );
  }
  return problems;
}
