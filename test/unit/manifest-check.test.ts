import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkStripeAppManifest } from "../../src/manifest/check.ts";
import { generateStripeAppManifest } from "../../src/manifest/generate.ts";
import type { ManifestProblemCode } from "../../src/manifest/problems.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/manifests");
const ORG = "org_00000000000000000000acme";
const REDIRECT_URI = `https://gateway.test/stripe/proxy/${ORG}/redirect`;
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");
const check = (text: string, redirectUri = REDIRECT_URI) => checkStripeAppManifest(text, { redirectUri });

type Manifest = Record<string, unknown> & { permissions: { permission: string; purpose?: unknown }[] };

/** The committed, correct manifest for ORG, parsed afresh for each mutation. */
function acme(): Manifest {
  return JSON.parse(fixture("acme.json"));
}

type Mistake = [
  name: string,
  mutate: (m: Manifest) => void,
  code: ManifestProblemCode,
  path: string,
  says: string,
];

const MISTAKES: Mistake[] = [
  [
    "a leftover view",
    (m) => (m.ui_extension = { views: [{ viewport: "stripe.dashboard.customer.detail", component: "App" }] }),
    "UI_EXTENSION_VIEWS",
    "ui_extension.views",
    "App (stripe.dashboard.customer.detail)",
  ],
  [
    "no access type",
    (m) => delete m.stripe_api_access_type,
    "MISSING_ACCESS_TYPE",
    "stripe_api_access_type",
    '"platform"',
  ],
  [
    "platform access",
    (m) => (m.stripe_api_access_type = "platform"),
    "WRONG_ACCESS_TYPE",
    "stripe_api_access_type",
    '"platform"',
  ],
  [
    "no distribution type",
    (m) => delete m.distribution_type,
    "MISSING_DISTRIBUTION_TYPE",
    "distribution_type",
    "private",
  ],
  [
    "private distribution",
    (m) => (m.distribution_type = "private"),
    "WRONG_DISTRIBUTION_TYPE",
    "distribution_type",
    '"private"',
  ],
  [
    "no redirect URIs",
    (m) => delete m.allowed_redirect_uris,
    "MISSING_REDIRECT_URIS",
    "allowed_redirect_uris",
    "is missing",
  ],
  [
    "empty redirect URIs",
    (m) => (m.allowed_redirect_uris = []),
    "MISSING_REDIRECT_URIS",
    "allowed_redirect_uris",
    "is empty",
  ],
  [
    "a redirect URI string instead of a list",
    (m) => (m.allowed_redirect_uris = REDIRECT_URI),
    "MISSING_REDIRECT_URIS",
    "allowed_redirect_uris",
    "must be a list",
  ],
  [
    "another org's redirect URI",
    (m) =>
      (m.allowed_redirect_uris = ["https://gateway.test/stripe/proxy/org_00000000000000000000beef/redirect"]),
    "REDIRECT_URI_OTHER_ORG",
    "allowed_redirect_uris[0]",
    `org id org_00000000000000000000beef, not ${ORG}`,
  ],
  [
    "http instead of https",
    (m) => (m.allowed_redirect_uris = [REDIRECT_URI.replace("https:", "http:")]),
    "REDIRECT_URI_HTTP",
    "allowed_redirect_uris[0]",
    "uses http://",
  ],
  [
    "a trailing slash",
    (m) => (m.allowed_redirect_uris = [`${REDIRECT_URI}/`]),
    "REDIRECT_URI_TRAILING_SLASH",
    "allowed_redirect_uris[0]",
    "ends with a slash",
  ],
  [
    "another host",
    (m) => (m.allowed_redirect_uris = [REDIRECT_URI.replace("gateway.test", "old-tunnel.example.com")]),
    "REDIRECT_URI_OTHER_HOST",
    "allowed_redirect_uris[0]",
    "points at https://old-tunnel.example.com, but the gateway's PUBLIC_URL is https://gateway.test",
  ],
  [
    "a query string",
    (m) => (m.allowed_redirect_uris = [`${REDIRECT_URI}?x=1`]),
    "WRONG_REDIRECT_URI",
    "allowed_redirect_uris[0]",
    "character for character",
  ],
  [
    "an unrelated redirect URI",
    (m) => (m.allowed_redirect_uris = ["https://app.acme.test/oauth/callback"]),
    "WRONG_REDIRECT_URI",
    "allowed_redirect_uris",
    "does not contain this org's redirect URI",
  ],
  [
    "no permissions",
    (m) => delete (m as Record<string, unknown>).permissions,
    "MISSING_PERMISSIONS",
    "permissions",
    "is missing",
  ],
  [
    "a missing permission",
    (m) => (m.permissions = m.permissions.filter((p) => p.permission !== "payout_read")),
    "MISSING_PERMISSION",
    "permissions",
    "payout_read is missing",
  ],
  [
    "an extra permission",
    (m) => m.permissions.push({ permission: "customer_write", purpose: "Updates customers." }),
    "EXTRA_PERMISSION",
    "permissions[12]",
    "customer_write is not one of the permissions",
  ],
  [
    "an empty purpose",
    (m) => (m.permissions[3]!.purpose = " "),
    "MISSING_PURPOSE",
    "permissions[3].purpose",
    "balance_transaction_source_read has no purpose",
  ],
  [
    "a permission without purpose",
    (m) => delete m.permissions[0]!.purpose,
    "MISSING_PURPOSE",
    "permissions[0].purpose",
    "connected_account_read has no purpose",
  ],
  [
    "a duplicate permission",
    (m) => m.permissions.push({ ...m.permissions[0]! }),
    "DUPLICATE_PERMISSION",
    "permissions[12]",
    "connected_account_read is listed more than once",
  ],
  [
    "a permission as a bare string",
    (m) => (m.permissions as unknown[]).push("charge_write"),
    "INVALID_PERMISSION_ENTRY",
    "permissions[12]",
    '"charge_write"',
  ],
  [
    "no sandbox_install_compatible",
    (m) => delete m.sandbox_install_compatible,
    "MISSING_SANDBOX_INSTALL_COMPATIBLE",
    "sandbox_install_compatible",
    "is missing",
  ],
  [
    "sandbox_install_compatible as a string",
    (m) => (m.sandbox_install_compatible = "true"),
    "MISSING_SANDBOX_INSTALL_COMPATIBLE",
    "sandbox_install_compatible",
    'not "true"',
  ],
  [
    "an app id with a space",
    (m) => (m.id = "com.acme app"),
    "INVALID_APP_ID",
    "id",
    '"com.acme app" is not a valid app id',
  ],
  ["no version", (m) => delete m.version, "INVALID_VERSION", "version", "version is missing"],
  ["an empty name", (m) => (m.name = ""), "INVALID_NAME", "name", 'not ""'],
  ["an SVG icon", (m) => (m.icon = "./icon.svg"), "INVALID_ICON", "icon", '"./icon.svg"'],
];

describe("checkStripeAppManifest", () => {
  it("accepts the generated manifest, and the committed one", () => {
    expect(check(generateStripeAppManifest({ redirectUri: REDIRECT_URI }).text)).toEqual([]);
    expect(check(fixture("acme.json"))).toEqual([]);
  });

  it.each(MISTAKES)("catches %s, alone, with its own message and fix", (_name, mutate, code, where, says) => {
    const manifest = acme();
    mutate(manifest);
    const problems = check(JSON.stringify(manifest, null, 2));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code, path: where });
    expect(problems[0]!.message).toContain(says);
    expect(problems[0]!.fix.length).toBeGreaterThan(10);
  });

  it("gives every mistake a message of its own", () => {
    const messages = MISTAKES.map(([, mutate]) => {
      const manifest = acme();
      mutate(manifest);
      return check(JSON.stringify(manifest))[0]!.message;
    });
    expect(new Set(messages).size).toBe(MISTAKES.length);
  });

  it("fixes a missing permission with its grant command and an extra one with a revoke", () => {
    const manifest = acme();
    manifest.permissions = manifest.permissions.filter((p) => p.permission !== "event_read");
    manifest.permissions.push({ permission: "charge_write", purpose: "Refunds charges." });
    const problems = check(JSON.stringify(manifest));
    expect(problems.map((p) => [p.code, p.fix])).toEqual([
      ["EXTRA_PERMISSION", 'stripe apps revoke permission "charge_write"'],
      [
        "MISSING_PERMISSION",
        expect.stringMatching(/^stripe apps grant permission "event_read" "Receives events/),
      ],
    ]);
  });

  it("reports every mistake of the manifest `stripe apps create` writes, one problem each", () => {
    const codes = check(fixture("stripe-apps-create.json")).map((p) => p.code);
    expect(codes).toEqual([
      "UI_EXTENSION_VIEWS",
      "MISSING_ACCESS_TYPE",
      "MISSING_DISTRIBUTION_TYPE",
      "MISSING_REDIRECT_URIS",
      ...Array(12).fill("MISSING_PERMISSION"),
      "MISSING_SANDBOX_INSTALL_COMPATIBLE",
    ]);
  });

  it("names every difference of a near miss, the most telling first", () => {
    const manifest = acme();
    manifest.allowed_redirect_uris = [
      "http://gateway.test/stripe/proxy/org_00000000000000000000beef/redirect/",
      "https://other.example/stripe/proxy/org_00000000000000000000acme/redirect",
    ];
    const problems = check(JSON.stringify(manifest));
    expect(problems.map((p) => [p.code, p.path])).toEqual([
      ["REDIRECT_URI_OTHER_ORG", "allowed_redirect_uris[0]"],
      ["REDIRECT_URI_OTHER_HOST", "allowed_redirect_uris[1]"],
    ]);
    expect(problems[0]!.message).toMatch(/org id .*; it uses http:\/\/.*; it ends with a slash/);
  });

  it("calls http a mistake only when PUBLIC_URL is https", () => {
    const local = `http://localhost:4000/stripe/proxy/${ORG}/redirect`;
    const manifest = acme();
    manifest.allowed_redirect_uris = [local.replace("http:", "https:")];
    const problems = check(JSON.stringify(manifest), local);
    expect(problems.map((p) => p.code)).toEqual(["REDIRECT_URI_OTHER_HOST"]);
    manifest.allowed_redirect_uris = [local];
    expect(check(JSON.stringify(manifest), local)).toEqual([]);
  });

  it("accepts what Stripe allows beside the gateway's needs", () => {
    const manifest = acme();
    manifest.allowed_redirect_uris = ["https://staging.acme.test/stripe/proxy/org_1/redirect", REDIRECT_URI];
    manifest.ui_extension = { views: [], content_security_policy: { purpose: "" } };
    manifest.sandbox_install_compatible = false;
    manifest.icon = "./icon.png";
    manifest.post_install_action = { type: "external", url: "https://acme.test/installed" };
    expect(check(JSON.stringify(manifest))).toEqual([]);
  });

  it.each([
    [
      "a trailing comma",
      (t: string) => t.replace('"sandbox_install_compatible": true', '"sandbox_install_compatible": true,'),
      /line 62, column 1: expected a double-quoted property name, found "}"/,
    ],
    [
      "a missing comma",
      (t: string) => t.replace('"version": "0.0.1",', '"version": "0.0.1"'),
      /line 4, column 3: expected ',' or '}' after a property value, found "\\""/,
    ],
    [
      "single quotes",
      (t: string) => t.replace('"icon": ""', "'icon': ''"),
      /line 5, column 3: expected a double-quoted property name, found "'"/,
    ],
    [
      "a cut-off file",
      (t: string) => t.slice(0, t.indexOf('"Reads') + 6),
      /line 9, column 24: expected a closing '"' for the string at line 9, column 18/,
    ],
    ["an empty file", () => "", /line 1, column 1: expected a value/],
  ])("reports invalid JSON with its line and column: %s", (_name, damage, where) => {
    // the text as the generator writes it, so that lines and columns are known
    const problems = check(damage(generateStripeAppManifest({ redirectUri: REDIRECT_URI }).text));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: "INVALID_JSON", path: "" });
    expect(problems[0]!.message).toMatch(where);
  });

  it("wants one JSON object", () => {
    expect(check("[]").map((p) => p.code)).toEqual(["NOT_AN_OBJECT"]);
    expect(check("null")[0]!.message).toContain("not null");
  });
});
