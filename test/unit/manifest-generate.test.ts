import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.ts";
import { generateStripeAppManifest } from "../../src/manifest/generate.ts";
import { STRIPE_APP_PERMISSIONS } from "../../src/manifest/permissions.ts";
import { shellQuote } from "../../src/manifest/shell-quote.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const REDIRECT_URI = "https://gateway.test/stripe/proxy/org_00000000000000000000acme/redirect";
const GUIDE = path.resolve(ROOT, "../shared/stripe/SETUP-GUIDE.md");

// The guide's step "Grant these permissions …", as written there today (used when the guide is not beside the repo).
const GUIDE_PERMISSIONS_COPY = [
  "connected_account_read",
  "application_fee_read",
  "balance_read",
  "balance_transaction_source_read",
  "charge_read",
  "customer_read",
  "dispute_read",
  "event_read",
  "issuing_authorization_read",
  "issuing_transaction_read",
  "payout_read",
  "subscription_read",
];

function guidePermissions(): string[] {
  if (!existsSync(GUIDE)) return GUIDE_PERMISSIONS_COPY;
  const guide = readFileSync(GUIDE, "utf8");
  const step = /Grant these permissions[\s\S]*?(?=\n\s*\d+\.\s)/.exec(guide)?.[0] ?? "";
  return [...step.matchAll(/\b[a-z]+(?:_[a-z]+)*_read\b/g)].map((match) => match[0]);
}

/** Runs a grant command through sh with `stripe apps grant permission` swapped for printf: the words sh sees. */
function shellWords(command: string): string[] {
  const prefix = "stripe apps grant permission ";
  expect(command.startsWith(prefix)).toBe(true);
  const output = execFileSync("sh", ["-c", `printf '%s\\0' ${command.slice(prefix.length)}`], {
    encoding: "utf8",
  });
  return output.split("\0").slice(0, -1);
}

describe("generateStripeAppManifest", () => {
  it("asks for exactly the setup guide's permissions, in its order, each with a purpose sentence", () => {
    const guide = guidePermissions();
    expect(guide).toHaveLength(12);
    const { json, permissions } = generateStripeAppManifest({ redirectUri: REDIRECT_URI });
    expect(json.permissions.map((entry) => entry.permission)).toEqual(guide);
    expect(permissions).toEqual(json.permissions);
    for (const { purpose } of permissions) expect(purpose).toMatch(/^[A-Z].{30,250}\.$/);
  });

  it("writes an OAuth, public app without UI for the org's redirect URI, with defaults", () => {
    const { json, text } = generateStripeAppManifest({ redirectUri: REDIRECT_URI });
    expect(json).toMatchObject({
      id: "com.example.stripe-connect-gateway",
      version: "0.0.1",
      name: "Stripe Connect Gateway",
      icon: "",
      stripe_api_access_type: "oauth",
      distribution_type: "public",
      allowed_redirect_uris: [REDIRECT_URI],
      sandbox_install_compatible: true,
    });
    expect(json.id).toMatch(/^[a-zA-Z0-9_\-.]+$/);
    expect(json).not.toHaveProperty("ui_extension");
    expect(text).toBe(`${JSON.stringify(json, null, 2)}\n`);
  });

  it("matches the committed fixture for a given org and options", () => {
    const { json } = generateStripeAppManifest({
      redirectUri: REDIRECT_URI,
      appId: "com.acme.stripe-gateway",
      name: "Acme Payouts",
    });
    // compared as data: Biome formats the fixture its own way
    expect(json).toEqual(
      JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/manifests/acme.json"), "utf8")),
    );
  });

  it("takes app id, name and version, trimmed, and rejects bad ones all at once", () => {
    const { json } = generateStripeAppManifest({
      redirectUri: REDIRECT_URI,
      appId: " com.acme.gw_2-x ",
      name: "Acme",
      version: "2.1.0-beta",
    });
    expect(json).toMatchObject({ id: "com.acme.gw_2-x", name: "Acme", version: "2.1.0-beta" });
    try {
      generateStripeAppManifest({
        redirectUri: REDIRECT_URI,
        appId: "com/acme app",
        name: " ",
        version: "1 2",
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).fieldErrors.map((e) => e.path.join("."))).toEqual([
        "appId",
        "name",
        "version",
      ]);
    }
  });

  it("prints one grant command per permission that a shell reads back as name and purpose", () => {
    const { grantCommands, permissions } = generateStripeAppManifest({ redirectUri: REDIRECT_URI });
    expect(grantCommands[0]).toBe(
      `stripe apps grant permission "connected_account_read" "${permissions[0]!.purpose}"`,
    );
    expect(grantCommands.map(shellWords)).toEqual(permissions.map((p) => [p.permission, p.purpose]));
  });

  it("shell-quotes any text so that sh reads it back unchanged", () => {
    for (const nasty of ['say "hi"', "it's $HOME `id` \\ \\n", "wow!", "don't!", ""]) {
      expect(shellWords(`stripe apps grant permission ${shellQuote(nasty)}`)).toEqual([nasty]);
    }
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme-ascii" }).filter((s) => !s.includes("\0")),
        (text) => {
          expect(shellWords(`stripe apps grant permission ${shellQuote(text)}`)).toEqual([text]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keeps the permission table free of duplicates", () => {
    const names = STRIPE_APP_PERMISSIONS.map((entry) => entry.permission);
    expect(new Set(names).size).toBe(names.length);
  });
});
