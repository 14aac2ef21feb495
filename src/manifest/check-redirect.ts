import { type ManifestProblem, type ManifestProblemCode, problem, shown } from "./problems.ts";

const PATH = "allowed_redirect_uris";
const REDIRECT_PATH = /^(.*)\/stripe\/proxy\/([^/]+)\/redirect(\/*)$/;

type Parts = { url: URL; prefix: string; orgId: string; trailingSlash: boolean };

function parts(value: string): Parts | null {
  if (!URL.canParse(value)) return null;
  const url = new URL(value);
  const match = REDIRECT_PATH.exec(url.pathname);
  if (!match) return null;
  return { url, prefix: match[1]!, orgId: match[2]!, trailingSlash: match[3]!.length > 0 };
}

/**
 * Why an entry that looks like a gateway redirect URI is not this org's, most telling reason first;
 * null when the entry is not a gateway redirect URI at all.
 */
function nearMiss(entry: string, expected: string): { code: ManifestProblemCode; reasons: string[] } | null {
  const got = parts(entry);
  const want = parts(expected);
  if (!got || !want) return null;
  const found: { code: ManifestProblemCode; reason: string }[] = [];
  const base = `${want.url.origin}${want.prefix}`;
  if (got.orgId !== want.orgId) {
    found.push({
      code: "REDIRECT_URI_OTHER_ORG",
      reason: `it has the org id ${got.orgId}, not ${want.orgId}`,
    });
  }
  const httpForHttps =
    want.url.protocol === "https:" && got.url.protocol === "http:" && got.url.host === want.url.host;
  if (httpForHttps) {
    found.push({
      code: "REDIRECT_URI_HTTP",
      reason: "it uses http:// where the gateway's PUBLIC_URL uses https:// (Stripe requires https)",
    });
  }
  if (!httpForHttps && (got.url.origin !== want.url.origin || got.prefix !== want.prefix)) {
    found.push({
      code: "REDIRECT_URI_OTHER_HOST",
      reason: `it points at ${got.url.origin}${got.prefix}, but the gateway's PUBLIC_URL is ${base}`,
    });
  } else if (httpForHttps && got.prefix !== want.prefix) {
    found.push({
      code: "REDIRECT_URI_OTHER_HOST",
      reason: `its path starts with ${got.prefix || "/"}, not ${want.prefix}`,
    });
  }
  if (got.trailingSlash) {
    found.push({
      code: "REDIRECT_URI_TRAILING_SLASH",
      reason: "it ends with a slash (Stripe compares URIs exactly)",
    });
  }
  if (found.length === 0) {
    // Same origin and path once parsed, yet not the same text: a query, fragment, port or letter case.
    found.push({
      code: "WRONG_REDIRECT_URI",
      reason: "Stripe compares redirect URIs character for character",
    });
  }
  return { code: found[0]!.code, reasons: found.map((item) => item.reason) };
}

/** Checks that `allowed_redirect_uris` holds this org's redirect URI, naming each near miss. */
export function checkRedirectUris(value: unknown, redirectUri: string): ManifestProblem[] {
  const fixAdd = `Set "allowed_redirect_uris": [${shown(redirectUri)}].`;
  if (value === undefined || value === null) {
    return [problem("MISSING_REDIRECT_URIS", PATH, "allowed_redirect_uris is missing.", fixAdd)];
  }
  if (!Array.isArray(value) || value.length === 0) {
    const what = Array.isArray(value) ? "is empty" : `must be a list of URLs, not ${shown(value)}`;
    return [problem("MISSING_REDIRECT_URIS", PATH, `allowed_redirect_uris ${what}.`, fixAdd)];
  }
  if (value.includes(redirectUri)) return [];
  const misses = value.flatMap((entry, index) => {
    const miss = typeof entry === "string" ? nearMiss(entry, redirectUri) : null;
    if (!miss) return [];
    return [
      problem(
        miss.code,
        `${PATH}[${index}]`,
        `${shown(entry)} is not this org's redirect URI: ${miss.reasons.join("; ")}.`,
        miss.code === "REDIRECT_URI_OTHER_HOST"
          ? `Replace it with ${shown(redirectUri)}, or, if Stripe reaches the gateway at that address, set PUBLIC_URL to it.`
          : `Replace it with ${shown(redirectUri)}.`,
      ),
    ];
  });
  if (misses.length > 0) return misses;
  return [
    problem(
      "WRONG_REDIRECT_URI",
      PATH,
      `allowed_redirect_uris does not contain this org's redirect URI ${shown(redirectUri)}.`,
      `Add ${shown(redirectUri)} as the first entry (the first one is where Stripe sends installs that start outside the gateway).`,
    ),
  ];
}
