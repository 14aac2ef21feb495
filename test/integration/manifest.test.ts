import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../graphql/gql.js";
import { databaseTargets } from "../helpers/databases.ts";
import { CreateOrg } from "../helpers/documents.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const StripeAppManifest = graphql(`
  query StripeAppManifest($appId: String, $name: String, $version: String) {
    stripeAppManifest(appId: $appId, name: $name, version: $version) {
      json
      text
      permissions { permission purpose }
      grantCommands
    }
  }
`);

const CheckStripeAppManifest = graphql(`
  query CheckStripeAppManifest($json: String!) {
    checkStripeAppManifest(json: $json) {
      ok
      redirectUri
      problems { code path message fix }
    }
  }
`);

type ManifestJson = { allowed_redirect_uris: string[]; [field: string]: unknown };

describe.each(databaseTargets)("stripe-app.json over GraphQL on $name", (target) => {
  let gateway: TestGateway;
  const orgs: { id: string; apiKey: string; redirectUri: string }[] = [];

  beforeAll(async () => {
    gateway = await startTestGateway(target);
    for (const name of ["Acme", "Globex"]) {
      const created = (await gateway.gql(CreateOrg, { name }, ADMIN_KEY)).data?.createOrg;
      if (created?.__typename !== "CreateOrgSuccess") throw new Error(`createOrg ${name} failed`);
      orgs.push({ id: created.org.id, apiKey: created.apiKey, redirectUri: created.org.redirectUri });
    }
  });
  afterAll(() => gateway?.close());

  it("generates the org's manifest with its redirect URI, the twelve permissions and their grant commands", async () => {
    const [acme] = orgs;
    const result = await gateway.gql(StripeAppManifest, {}, acme!.apiKey);
    expect(result.errors).toBeUndefined();
    const manifest = result.data!.stripeAppManifest;
    expect(manifest.json).toMatchObject({
      id: "com.example.stripe-connect-gateway",
      stripe_api_access_type: "oauth",
      distribution_type: "public",
      allowed_redirect_uris: [acme!.redirectUri],
      sandbox_install_compatible: true,
    });
    expect(JSON.parse(manifest.text)).toEqual(manifest.json);
    expect(manifest.permissions).toHaveLength(12);
    expect(manifest.grantCommands[11]).toBe(
      `stripe apps grant permission "subscription_read" "${manifest.permissions[11]!.purpose}"`,
    );
  });

  it("is specific to the caller's org", async () => {
    const uris = await Promise.all(
      orgs.map(async (org) => {
        const result = await gateway.gql(StripeAppManifest, {}, org.apiKey);
        return (result.data!.stripeAppManifest.json as ManifestJson).allowed_redirect_uris;
      }),
    );
    expect(uris).toEqual(orgs.map((org) => [org.redirectUri]));
    expect(uris[0]).not.toEqual(uris[1]);
  });

  it("takes app id, name and version, and answers 400 naming each bad one", async () => {
    const ok = await gateway.gql(
      StripeAppManifest,
      { appId: "com.acme.gateway", name: "Acme Payouts", version: "1.0.0" },
      orgs[0]!.apiKey,
    );
    expect(ok.data?.stripeAppManifest.json).toMatchObject({
      id: "com.acme.gateway",
      name: "Acme Payouts",
      version: "1.0.0",
    });
    const bad = await gateway.gql(StripeAppManifest, { appId: "com acme", version: "" }, orgs[0]!.apiKey);
    expect(bad.status).toBe(400);
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(bad.errors?.map((e) => e.message).join(" ")).toMatch(
      /appId: may contain only.*version: must not be empty/s,
    );
  });

  it("checks a manifest for the caller's org: right for its own, another org's redirect URI named", async () => {
    const [acme, globex] = orgs;
    const { text } = (await gateway.gql(StripeAppManifest, {}, acme!.apiKey)).data!.stripeAppManifest;
    const own = await gateway.gql(CheckStripeAppManifest, { json: text }, acme!.apiKey);
    expect(own.data?.checkStripeAppManifest).toEqual({
      ok: true,
      redirectUri: acme!.redirectUri,
      problems: [],
    });
    const other = await gateway.gql(CheckStripeAppManifest, { json: text }, globex!.apiKey);
    expect(other.data?.checkStripeAppManifest).toMatchObject({
      ok: false,
      redirectUri: globex!.redirectUri,
      problems: [{ code: "REDIRECT_URI_OTHER_ORG", path: "allowed_redirect_uris[0]" }],
    });
    expect(other.data?.checkStripeAppManifest.problems[0]?.fix).toContain(globex!.redirectUri);
  });

  it("reports invalid JSON as a problem, not an error", async () => {
    const result = await gateway.gql(CheckStripeAppManifest, { json: '{\n  "id": "x",\n}' }, orgs[0]!.apiKey);
    expect(result.data?.checkStripeAppManifest.problems).toEqual([
      expect.objectContaining({ code: "INVALID_JSON", message: expect.stringContaining("line 3, column 1") }),
    ]);
  });

  it("answers UNAUTHENTICATED (401) without a key and for an unknown key", async () => {
    for (const key of [null, `cgw_key_AAAAAAAAAAAA_${"A".repeat(43)}`]) {
      const results = [
        await gateway.gql(StripeAppManifest, {}, key),
        await gateway.gql(CheckStripeAppManifest, { json: "{}" }, key),
      ];
      for (const result of results) {
        expect(result.status).toBe(401);
        expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
        expect(result.data ?? null).toBeNull();
      }
    }
  });

  it("answers FORBIDDEN to the admin key, which has no org", async () => {
    const result = await gateway.gql(StripeAppManifest, {}, ADMIN_KEY);
    expect(result.status).toBe(403);
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
