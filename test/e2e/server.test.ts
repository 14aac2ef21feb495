import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.ts";
import { type GatewayProcess, runToCompletion, startGatewayProcess } from "../helpers/gateway-process.ts";

const ADMIN = "e2e-admin-key-abcdefghijklmnopqrstuvwxyz";

async function graphql(url: string, query: string, key?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: Record<string, { [key: string]: unknown }>;
      errors?: unknown[];
    },
  };
}

describe("the gateway process on the embedded database", () => {
  let dataDir: string;
  let gateway: GatewayProcess;
  let apiKey: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "gw-e2e-"));
    // A new user's first step: create an org from the command line, before the gateway runs.
    const created = await runToCompletion("cli.ts", ["org", "create", "--name", "E2E Org", "--json"], {
      DATA_DIR: dataDir,
    });
    expect(created.code, created.stderr).toBe(0);
    apiKey = JSON.parse(created.stdout).apiKey;
    expect(created.stderr).toContain("ENCRYPTION_KEY is not set: generated one");
    gateway = await startGatewayProcess({ DATA_DIR: dataDir, ADMIN_API_KEY: ADMIN });
  });
  afterAll(async () => {
    await gateway?.stop("SIGKILL");
  });

  it("serves health checks and GraphQL over real HTTP with the CLI-created key", async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(await ready.json()).toEqual({ status: "ok", checks: { database: "ok" } });
    const viewer = await graphql(gateway.url, "{ viewer { name redirectUri } }", apiKey);
    expect(viewer.body.data?.viewer?.name).toBe("E2E Org");
    const created = await graphql(
      gateway.url,
      'mutation { createOrg(input: { name: "Second" }) { __typename } }',
      ADMIN,
    );
    expect(created.body.data?.createOrg?.__typename).toBe("CreateOrgSuccess");
    const page = await fetch(`${gateway.url}/graphql`, { headers: { accept: "text/html" } });
    expect(await page.text()).toContain("Stripe Connect Gateway");
    // The dashboard, which the gateway built (or found built) as it started: its page and its script.
    const dashboard = await (await fetch(`${gateway.url}/`)).text();
    const script = /<script type="module" crossorigin src="([^"]+)">/.exec(dashboard)?.[1];
    expect(script).toMatch(/^\/dashboard\/assets\//);
    expect((await fetch(`${gateway.url}${script}`)).status).toBe(200);
    expect(gateway.output()).not.toContain(apiKey);
    expect(gateway.output()).not.toContain(ADMIN);
  });

  it("lets the CLI create an org while the gateway runs, through the same cluster", async () => {
    const result = await runToCompletion("cli.ts", ["org", "create", "--name", "While running", "--json"], {
      DATA_DIR: dataDir,
    });
    expect(result.code, result.stderr).toBe(0);
    const { apiKey: key } = JSON.parse(result.stdout) as { apiKey: string };
    const viewer = await graphql(gateway.url, "{ viewer { name } }", key);
    expect(viewer.body.data?.viewer?.name).toBe("While running");
  });

  it("finishes an in-flight request on SIGTERM, then exits 0", async () => {
    const { port } = new URL(gateway.url);
    const body = JSON.stringify({ query: "{ viewer { name } }" });
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    let response = "";
    socket.on("data", (chunk) => (response += chunk));
    // Headers and half the body now; the rest only after the signal.
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer ${apiKey}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
    );
    // Requests are read in order: once a later one is answered, the gateway holds this one in flight.
    await (await fetch(`${gateway.url}/healthz`, { headers: { connection: "close" } })).arrayBuffer();
    const exit = gateway.stop("SIGTERM");
    await eventually(() => gateway.output().includes("shutting down"), {
      what: "the gateway began shutting down",
    });
    socket.write(body.slice(10));
    expect(await exit).toBe(0);
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toContain('"name":"E2E Org"');
    expect(gateway.output()).toContain("shutting down");
  });
});

describe("start-up refusals", () => {
  it("refuses DATABASE_URL without ENCRYPTION_KEY, naming the variable", async () => {
    const result = await runToCompletion("main.ts", [], {
      DATABASE_URL: "postgres://127.0.0.1:1/none",
      PORT: "0",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ENCRYPTION_KEY: is required when DATABASE_URL is set");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses an invalid ENCRYPTION_KEY and reports every bad variable at once", async () => {
    const result = await runToCompletion("main.ts", [], {
      DATABASE_URL: "postgres://127.0.0.1:1/none",
      ENCRYPTION_KEY: "short",
      PORT: "-1",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ENCRYPTION_KEY: must be 32 bytes");
    expect(result.stderr).toContain("PORT:");
  });

  it("names an unreachable database without a stack trace", async () => {
    const result = await runToCompletion("main.ts", [], {
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      PORT: "0",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/gateway failed to start: .*ECONNREFUSED/);
  });
});
