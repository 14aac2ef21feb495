// `npm start` as a new user runs it: from a project directory with a `.env`, stopped with a signal.
import { once } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  childPids,
  freePort,
  isListening,
  isRunning,
  linkProject,
  type NpmRun,
  removeProject,
  runNpm,
} from "../helpers/npm-scripts.ts";

const ADMIN = "start-e2e-admin-key-abcdefghijklmnop";

async function createOrg(port: number): Promise<{ apiKey: string; webhookUrl: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({
      query:
        'mutation { createOrg(input: { name: "Start" }) { ... on CreateOrgSuccess { apiKey org { webhookUrl } } ... on ValidationError { message } } }',
    }),
  });
  const body = (await response.json()) as {
    data: { createOrg: { apiKey: string; org: { webhookUrl: string } } };
  };
  return { apiKey: body.data.createOrg.apiKey, webhookUrl: body.data.createOrg.org.webhookUrl };
}

describe("npm start", () => {
  let project: string;
  let port: number;
  let gateway: NpmRun;

  beforeAll(async () => {
    project = await linkProject();
    port = await freePort();
    await writeFile(
      path.join(project, ".env"),
      [
        "# a .env as a user writes it",
        `PORT=${port}`,
        "HOST=127.0.0.1",
        `ADMIN_API_KEY=${ADMIN}`,
        "PUBLIC_URL=https://from-the-file.example",
        "",
      ].join("\n"),
    );
    gateway = runNpm(project, ["start"], { PUBLIC_URL: "https://from-the-environment.example" });
    await gateway.printed("gateway listening");
  }, 100_000);
  afterAll(async () => {
    if (gateway?.child.exitCode === null) {
      for (const pid of await childPids(gateway.child.pid!)) process.kill(pid, "SIGKILL");
      gateway.child.kill("SIGKILL");
      await gateway.exited;
    }
    if (project) await removeProject(project);
  });

  it("reads .env from the project directory, and the environment wins over the file", async () => {
    // PORT and ADMIN_API_KEY come from the file only, PUBLIC_URL from both.
    const org = await createOrg(port);
    expect(org.webhookUrl).toMatch(/^https:\/\/from-the-environment\.example\/stripe\/webhooks\/org_/);
  });

  it("stops on SIGTERM sent to npm: subscribers are let go at once, and nothing is left listening", async () => {
    const { apiKey } = await createOrg(port);
    let connected!: () => void;
    const accepted = new Promise<void>((resolve) => (connected = resolve));
    const closed = new Promise<number>((resolve) => {
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${apiKey}` },
        retryAttempts: 0,
        on: { connected, closed: (event) => resolve((event as { code: number }).code) },
      });
      client.subscribe(
        { query: "subscription { connectionUpdated { id } }" },
        {
          next: () => {},
          error: () => {},
          complete: () => {},
        },
      );
    });
    await accepted;
    const sse = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${apiKey}`,
      },
      body: JSON.stringify({ query: "subscription { payoutUpdated { id } }" }),
    });
    expect(sse.status).toBe(200);
    const reader = sse.body!.getReader();
    const streamEnded = (async () => {
      try {
        while (!(await reader.read()).done) {}
      } catch {
        // cut: graphql-sse clients reconnect either way
      }
      return true;
    })();
    const [nodePid] = await childPids(gateway.child.pid!);
    expect(nodePid, "npm runs the gateway as its child").toBeDefined();

    gateway.child.kill("SIGTERM");
    const exit = await gateway.exited;

    expect(exit.code, gateway.output()).toBe(0);
    expect(isRunning(nodePid!)).toBe(false);
    expect(await isListening(port)).toBe(false);
    expect(await closed).toBe(1001);
    expect(await streamEnded).toBe(true);
    expect(gateway.output()).toContain('"msg":"stopped"');
    expect(gateway.output()).not.toContain("did not finish in time");
  }, 60_000);
});

describe("npm start on a port in use", () => {
  it("says so in one line naming the port and PORT, and exits non-zero", async () => {
    const project = await linkProject();
    const busy = createServer().listen(0, "127.0.0.1");
    await once(busy, "listening");
    const { port } = busy.address() as { port: number };
    try {
      const run = runNpm(project, ["start"], {
        PORT: String(port),
        HOST: "127.0.0.1",
        DATA_DIR: await mkdtemp(path.join(tmpdir(), "gw-busy-")),
      });
      const exit = await run.exited;
      expect(exit.code).toBe(1);
      const lines = run
        .stderr()
        .split("\n")
        .filter((line) => line && !line.endsWith("not found. Continuing without it."));
      expect(lines).toEqual([
        `gateway failed to start: port ${port} is already in use (another gateway, or another program, listens there): stop it, or set PORT to a free port, e.g. PORT=${port + 1} npm start`,
      ]);
    } finally {
      busy.close();
      await removeProject(project);
    }
  }, 100_000);
});
