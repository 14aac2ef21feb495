// What a browser is told: CORS for the CORS_ORIGINS allow-list only (none by default), Yoga's CSRF
// prevention for requests a browser would send without a preflight, and security headers on every HTML
// page the gateway serves (the dashboard, GraphiQL outside production, the OAuth result pages).
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRAPHIQL_ASSETS_PATH } from "../../src/graphql/graphiql.ts";
import {
  type ConnectWorld,
  followAuthorization,
  StartConnection,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { CreateOrg } from "../helpers/documents.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const APP = "https://app.example.com";
const ADMIN = "https://admin.example.com";
const EVIL = "https://evil.example";

const graphqlRequest = (gateway: TestGateway, init: RequestInit & { path?: string }) =>
  gateway.app.fetch(new Request(`http://gateway.test${init.path ?? "/graphql"}`, init));

const preflight = (gateway: TestGateway, origin: string) =>
  graphqlRequest(gateway, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });

const crossOriginPost = (gateway: TestGateway, origin: string, apiKey: string) =>
  graphqlRequest(gateway, {
    method: "POST",
    headers: { origin, "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query: "{ viewer { id } }" }),
  });

async function createOrg(gateway: TestGateway, name: string): Promise<string> {
  const created = await gateway.gql(CreateOrg, { name }, ADMIN_KEY);
  if (created.data?.createOrg.__typename !== "CreateOrgSuccess") throw new Error(JSON.stringify(created));
  return created.data.createOrg.apiKey;
}

/** The sources a policy's directive lists. */
function sources(policy: string, directive: string): string[] {
  const found = policy
    .split(";")
    .map((part) => part.trim().split(/\s+/))
    .find(([name]) => name === directive);
  return found ? found.slice(1) : [];
}

function expectPageHeaders(response: Response) {
  const policy = response.headers.get("content-security-policy") ?? "";
  expect(response.headers.get("content-type")).toMatch(/^text\/html/);
  expect(sources(policy, "default-src")).toEqual(["'none'"]);
  expect(sources(policy, "frame-ancestors")).toEqual(["'none'"]);
  expect(sources(policy, "base-uri")).toEqual(["'none'"]);
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("referrer-policy")).toBe("no-referrer");
  return policy;
}

/** An OAuth result page: nothing loads, and its one inline style is allowed by its hash. */
async function expectOAuthPage(response: Response, status: number) {
  expect(response.status).toBe(status);
  const policy = expectPageHeaders(response);
  const style = /<style>([\s\S]*?)<\/style>/.exec(await response.text())?.[1];
  expect(style).toBeDefined();
  const hash = `'sha256-${createHash("sha256").update(style!).digest("base64")}'`;
  expect(sources(policy, "style-src")).toEqual([hash]);
  expect(policy).not.toMatch(/script-src|unsafe/);
}

describe.each(databaseTargets)("browser hygiene on $name", (target) => {
  describe("CORS and CSRF", () => {
    let allowList: TestGateway;
    let closed: TestGateway;
    let allowListKey: string;
    let closedKey: string;

    beforeAll(async () => {
      // Spaces and a trailing slash are forgiven: origins are compared as browsers send them.
      allowList = await startTestGateway(target, { CORS_ORIGINS: `${APP}, ${ADMIN}/` });
      closed = await startTestGateway(target);
      allowListKey = await createOrg(allowList, "Allow-listed");
      closedKey = await createOrg(closed, "Closed");
    });
    afterAll(async () => {
      await allowList?.close();
      await closed?.close();
    });

    it("answers a listed origin's preflight and requests, for bearer tokens (no credentials)", async () => {
      for (const origin of [APP, ADMIN]) {
        const answer = await preflight(allowList, origin);
        expect(answer.status).toBe(204);
        expect(answer.headers.get("access-control-allow-origin")).toBe(origin);
        expect(answer.headers.get("access-control-allow-methods")).toBe("GET,POST,OPTIONS");
        expect(answer.headers.get("access-control-allow-headers")).toBe("authorization,content-type");
        expect(answer.headers.get("access-control-max-age")).toBe("600");
        expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
        expect(answer.headers.get("vary")).toMatch(/Origin/);
        const response = await crossOriginPost(allowList, origin, allowListKey);
        expect(response.status).toBe(200);
        expect(response.headers.get("access-control-allow-origin")).toBe(origin);
        expect(response.headers.get("access-control-expose-headers")).toBe("x-request-id,retry-after");
        expect(response.headers.get("vary")).toMatch(/Origin/);
      }
    });

    it("gives an origin off the list no CORS header: the browser keeps the answer from its page", async () => {
      const answer = await preflight(allowList, EVIL);
      expect(answer.headers.get("access-control-allow-origin")).toBeNull();
      const response = await crossOriginPost(allowList, EVIL, allowListKey);
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
    });

    it("allows no origin at all without CORS_ORIGINS (Yoga's default echoed any)", async () => {
      for (const origin of [APP, EVIL]) {
        const answer = await preflight(closed, origin);
        expect(answer.headers.get("access-control-allow-origin")).toBeNull();
        expect(answer.headers.get("access-control-allow-methods")).toBeNull();
        const response = await crossOriginPost(closed, origin, closedKey);
        expect(response.headers.get("access-control-allow-origin")).toBeNull();
      }
      // Same-origin requests send no Origin and are answered as before.
      const same = await closed.gql(CreateOrg, { name: "Same origin" }, ADMIN_KEY);
      expect(same.status).toBe(200);
    });

    it("refuses a GET (and a form's POST) that a browser would send without a preflight, unless it says it is no form", async () => {
      const query = encodeURIComponent("{ viewer { id } }");
      const bare = await graphqlRequest(closed, {
        path: `/graphql?query=${query}`,
        headers: { authorization: `Bearer ${closedKey}` },
      });
      expect(bare.status).toBe(403);
      expect(await bare.json()).toMatchObject({
        errors: [{ message: "Required CSRF header(s) not present" }],
      });
      const form = await graphqlRequest(closed, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Bearer ${closedKey}`,
        },
        body: `query=${query}`,
      });
      expect(form.status).toBe(403);
      const marked = await graphqlRequest(closed, {
        path: `/graphql?query=${query}`,
        headers: { authorization: `Bearer ${closedKey}`, "x-graphql-yoga-csrf": "1" },
      });
      expect(marked.status).toBe(200);
      expect(await marked.json()).toMatchObject({ data: { viewer: { id: expect.any(String) } } });
    });

    it("says nosniff on every response, HTML or not", async () => {
      const json = await crossOriginPost(closed, APP, closedKey);
      expect(json.headers.get("x-content-type-options")).toBe("nosniff");
      const health = await graphqlRequest(closed, { path: "/healthz" });
      expect(health.headers.get("x-content-type-options")).toBe("nosniff");
      const missing = await graphqlRequest(closed, { path: "/nowhere" });
      expect(missing.headers.get("x-content-type-options")).toBe("nosniff");
    });
  });

  describe("HTML pages", () => {
    let world: ConnectWorld;

    beforeAll(async () => {
      world = await startConnectWorld(target, { size: "tiny", accounts: 1 });
    }, 60_000);
    afterAll(() => world?.close());

    it("serves GraphiQL from its own files, with a policy that allows exactly what its page loads", async () => {
      const response = await graphqlRequest(world.gateway, { headers: { accept: "text/html" } });
      expect(response.status).toBe(200);
      const policy = expectPageHeaders(response);
      const page = await response.text();
      for (const [, script] of page.matchAll(/<script>([\s\S]*?)<\/script>/g)) {
        const hash = `'sha256-${createHash("sha256").update(script!).digest("base64")}'`;
        expect(sources(policy, "script-src")).toContain(hash);
      }
      const loads = (pattern: RegExp) => [...page.matchAll(pattern)].map((match) => match[1]!);
      const scripts = loads(/<script src=(\S+?)>/g);
      const styles = loads(/<link crossorigin rel=stylesheet href=(\S+?)>/g);
      const icons = loads(/<link rel=icon href=(\S+?)>/g);
      const workers = loads(/"([^"]+\.worker[^"]*\.js)"/g);
      expect(scripts.length * styles.length * icons.length * workers.length).toBeGreaterThan(0);
      // Nothing from another site (GraphiQL used to load from unpkg): the gateway serves every file.
      for (const url of [...scripts, ...styles, ...workers]) {
        expect(url, url).toMatch(new RegExp(`^${GRAPHIQL_ASSETS_PATH}`));
        const file = await graphqlRequest(world.gateway, { path: url });
        expect(file.status, url).toBe(200);
        expect(file.headers.get("content-type"), url).toMatch(
          url.endsWith(".css") ? /^text\/css/ : /^text\/javascript/,
        );
        expect(file.headers.get("cache-control"), url).toContain("immutable");
      }
      expect(sources(policy, "script-src")).toContain("'self'");
      expect(sources(policy, "style-src")).toContain("'self'");
      expect(sources(policy, "connect-src")).toEqual(["'self'"]);
      expect(sources(policy, "worker-src")).toEqual(["blob:"]);
      for (const icon of icons) expect(icon).toMatch(/^data:image\/svg\+xml,/);
      expect(sources(policy, "img-src")).toContain("data:");
      // Nothing else: no host is named at all.
      expect(policy).not.toMatch(/https?:/);
      expect(
        (await graphqlRequest(world.gateway, { path: `${GRAPHIQL_ASSETS_PATH}package.json` })).status,
      ).toBe(404);
    });

    it("serves the dashboard at / with a policy of its own files only", async () => {
      const response = await graphqlRequest(world.gateway, { path: "/" });
      expect(response.status).toBe(200);
      const policy = expectPageHeaders(response);
      const page = await response.text();
      expect(sources(policy, "script-src")).toEqual(["'self'"]);
      expect(sources(policy, "style-src")).toEqual(["'self'"]);
      expect(sources(policy, "connect-src")).toEqual(["'self'"]);
      expect(sources(policy, "form-action")).toEqual(["'none'"]);
      // No inline script or style for the policy to refuse; everything it loads is the gateway's.
      expect(page).not.toMatch(/<script>|<style|style=/);
      const files = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
      expect(files.length).toBeGreaterThanOrEqual(3);
      for (const url of files) {
        expect(url, url).toMatch(/^\/dashboard\//);
        const file = await graphqlRequest(world.gateway, { path: url });
        expect(file.status, url).toBe(200);
        expect(file.headers.get("x-content-type-options"), url).toBe("nosniff");
        if (url.endsWith(".js")) expect(file.headers.get("content-type")).toMatch(/^text\/javascript/);
        if (url.endsWith(".css")) expect(file.headers.get("content-type")).toMatch(/^text\/css/);
        if (url.includes("/assets/")) expect(file.headers.get("cache-control")).toContain("immutable");
      }
      const missing = await graphqlRequest(world.gateway, { path: "/dashboard/../package.json" });
      expect(missing.status).toBe(404);
      expect((await graphqlRequest(world.gateway, { path: "/dashboard/index.html" })).status).toBe(404);
    });

    it("puts the headers on the OAuth result pages: success, and each failure", async () => {
      const unknown = await world.gateway.app.fetch(
        new Request("https://gateway.test/stripe/proxy/org_000000000000000000000000/redirect?code=x&state=y"),
      );
      await expectOAuthPage(unknown, 404);

      const unconfigured = await world.createOrg("Unconfigured");
      await expectOAuthPage(
        await world.gateway.app.fetch(
          new Request(`https://gateway.test/stripe/proxy/${unconfigured.rawId}/redirect?code=x&state=y`),
        ),
        400,
      );

      const org = await world.createConfiguredOrg("Pages");
      const forged = await world.gateway.app.fetch(
        new Request(`https://gateway.test/stripe/proxy/${org.rawId}/redirect?code=x&state=forged`),
      );
      await expectOAuthPage(forged, 400);

      // No return URL, so the merchant's browser lands on the gateway's own page.
      const started = await world.gateway.gql(StartConnection, { input: {} }, org.apiKey);
      if (started.data?.startStripeConnection.__typename !== "StartStripeConnectionSuccess") {
        throw new Error(JSON.stringify(started));
      }
      const { response } = await followAuthorization(
        world,
        started.data.startStripeConnection.authorizationUrl,
      );
      await expectOAuthPage(response, 200);
      await world.gateway.deps.sync.idle();
    });
  });
});
