import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToCompletion } from "../helpers/gateway-process.ts";

const ORG = "org_0123456789abcdef01234567";
const PUBLIC_URL = "https://gateway.example.com";
const REDIRECT_URI = `${PUBLIC_URL}/stripe/proxy/${ORG}/redirect`;

describe("npm run cli -- manifest", () => {
  let dir: string;
  const cli = (args: string[], env: Record<string, string> = { PUBLIC_URL }) =>
    runToCompletion("cli.ts", ["manifest", ...args], { DATA_DIR: dir, ...env });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gw-manifest-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("generate writes a manifest that check accepts (exit 0)", async () => {
    const file = path.join(dir, "stripe-app.json");
    const generated = await cli([
      "generate",
      "--org-id",
      ORG,
      "--app-id",
      "com.acme.gateway",
      "--name",
      "Acme Payouts",
      "--version",
      "1.2.0",
      "--out",
      file,
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toContain(`Wrote ${file}`);
    const grants = generated.stdout
      .split("\n")
      .filter((line) => line.trim().startsWith("stripe apps grant permission"));
    expect(grants).toHaveLength(12);
    expect(grants[0]).toContain('"connected_account_read"');
    const manifest = JSON.parse(await readFile(file, "utf8"));
    expect(manifest).toMatchObject({
      id: "com.acme.gateway",
      name: "Acme Payouts",
      version: "1.2.0",
      allowed_redirect_uris: [REDIRECT_URI],
    });

    const checked = await cli(["check", file, "--org-id", ORG]);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toContain(`is right for redirect URI ${REDIRECT_URI}`);
  });

  it("generate --out - prints the manifest; an http PUBLIC_URL gets a note, not a failure", async () => {
    const result = await cli(["generate", "--org-id", ORG, "--out", "-"], {
      PUBLIC_URL: "http://localhost:4000",
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("is not https; Stripe requires https redirect URIs in live mode");
    expect(JSON.parse(result.stdout).allowed_redirect_uris).toEqual([
      `http://localhost:4000/stripe/proxy/${ORG}/redirect`,
    ]);
  });

  it("check rejects a broken manifest with exit 1 and one line per problem", async () => {
    const file = path.join(dir, "broken.json");
    const manifest = JSON.parse(await readFile(path.join(dir, "stripe-app.json"), "utf8"));
    manifest.stripe_api_access_type = "platform";
    manifest.allowed_redirect_uris = [`${REDIRECT_URI}/`];
    manifest.permissions = manifest.permissions.filter(
      (p: { permission: string }) => p.permission !== "payout_read",
    );
    manifest.ui_extension = { views: [{ viewport: "stripe.dashboard.home.overview", component: "App" }] };
    await writeFile(file, JSON.stringify(manifest, null, 2));

    const result = await cli(["check", file, "--org-id", ORG]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(/^.*broken\.json: ui_extension\.views: .* Fix: Remove every entry/),
      expect.stringMatching(
        /stripe_api_access_type: .*"platform".* Fix: Set "stripe_api_access_type": "oauth"/,
      ),
      expect.stringMatching(/allowed_redirect_uris\[0\]: .*ends with a slash.* Fix: Replace it with/),
      expect.stringMatching(
        /permissions: payout_read is missing.* Fix: stripe apps grant permission "payout_read"/,
      ),
      expect.stringMatching(/4 problems in .*broken\.json\.$/),
    ]);
  });

  it("check reports invalid JSON with its line and column (exit 1) and an unreadable file with exit 2", async () => {
    const file = path.join(dir, "invalid.json");
    await writeFile(file, '{\n  "id": "com.acme.gateway",\n  "version": "1"\n  "name": "x"\n}\n');
    const invalid = await cli(["check", file, "--org-id", ORG]);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain("line 4, column 3");

    const missing = await cli(["check", path.join(dir, "nope.json"), "--org-id", ORG]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read");
  });

  it("refuses a malformed org id before writing anything", async () => {
    const result = await cli(["generate", "--org-id", "acme", "--out", path.join(dir, "x.json")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("must look like org_");
  });
});
