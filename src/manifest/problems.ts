/** Every mistake the checker knows, in the order it reports them (the order of the setup guide). */
export const MANIFEST_PROBLEM_CODES = [
  "INVALID_JSON",
  "NOT_AN_OBJECT",
  "UI_EXTENSION_VIEWS",
  "MISSING_ACCESS_TYPE",
  "WRONG_ACCESS_TYPE",
  "MISSING_DISTRIBUTION_TYPE",
  "WRONG_DISTRIBUTION_TYPE",
  "MISSING_REDIRECT_URIS",
  "REDIRECT_URI_OTHER_ORG",
  "REDIRECT_URI_HTTP",
  "REDIRECT_URI_OTHER_HOST",
  "REDIRECT_URI_TRAILING_SLASH",
  "WRONG_REDIRECT_URI",
  "MISSING_PERMISSIONS",
  "INVALID_PERMISSION_ENTRY",
  "DUPLICATE_PERMISSION",
  "EXTRA_PERMISSION",
  "MISSING_PURPOSE",
  "MISSING_PERMISSION",
  "MISSING_SANDBOX_INSTALL_COMPATIBLE",
  "INVALID_APP_ID",
  "INVALID_VERSION",
  "INVALID_NAME",
  "INVALID_ICON",
] as const;

export type ManifestProblemCode = (typeof MANIFEST_PROBLEM_CODES)[number];

/** One mistake in a stripe-app.json: where (a JSON path such as `permissions[3].purpose`), what, and how to fix it. */
export type ManifestProblem = { code: ManifestProblemCode; path: string; message: string; fix: string };

export function problem(
  code: ManifestProblemCode,
  path: string,
  message: string,
  fix: string,
): ManifestProblem {
  return { code, path, message, fix };
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as it appears in the file, for messages. */
export function shown(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
