import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachWebSocket, type WebSocketEndpoint } from "../../src/http/websocket.ts";
import { changePayout, newestSequence } from "../helpers/changes.ts";
import { ConfigureStripe, type ConnectWorld, connectAccount, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** The ```js blocks of a README section ("### Subscriptions" unless named), in order. */
async function readmeSnippets(heading = "### Subscriptions"): Promise<string[]> {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(heading);
  const section = readme.slice(start, readme.indexOf("\n### ", start + 1));
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!.replace(/^ {2}/gm, ""));
}

/**
 * Runs a README snippet as a Node ES module, unchanged apart from the gateway's address. Node 20 has
 * no global WebSocket (browsers do), so `ws` stands in; `apiKey` and `connectionId` are the page's.
 * The first console.log is written to stdout as JSON and ends the process.
 */
async function runSnippet(
  code: string,
  url: string,
  values: { apiKey: string; connectionId: string; lastSequence?: string | null },
): Promise<{ child: ChildProcess; logged: Promise<unknown>; cleanup(): Promise<void> }> {
  // Under node_modules/, so that the snippet's imports resolve to the project's packages.
  const dir = path.join(ROOT, "node_modules", ".cache", "readme-snippets");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
  const preamble = [
    'import WebSocket from "ws";',
    "globalThis.WebSocket = WebSocket;",
    `const apiKey = ${JSON.stringify(values.apiKey)};`,
    `const connectionId = ${JSON.stringify(values.connectionId)};`,
    `const lastSequence = ${JSON.stringify(values.lastSequence ?? null)};`,
    'console.log = (value) => { process.stdout.write(JSON.stringify(value) + "\\n", () => process.exit(0)); };',
  ].join("\n");
  const body = code
    .replaceAll("https://gateway.example.com", url)
    .replaceAll("wss://gateway.example.com", url.replace("http:", "ws:"));
  // Imports must come first in a module: hoist them above the preamble.
  const imports = body.split("\n").filter((line) => line.startsWith("import "));
  const rest = body.split("\n").filter((line) => !line.startsWith("import "));
  await writeFile(file, [...imports, preamble, ...rest].join("\n"));
  const child = spawn(process.execPath, [file], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let errors = "";
  child.stderr!.on("data", (chunk) => (errors += chunk));
  const logged = new Promise<unknown>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const line = output.split("\n")[0];
      if (output.includes("\n")) resolve(JSON.parse(line!));
    });
    child.once("exit", (code) => reject(new Error(`snippet exited with ${code} before logging:\n${errors}`)));
  });
  return {
    child,
    logged,
    cleanup: async () => {
      if (child.exitCode === null) child.kill();
      await rm(file, { force: true });
    },
  };
}

describe.each(databaseTargets.slice(0, 1))(
  "the README's browser subscription examples, as written ($name)",
  (target) => {
    let world: ConnectWorld;
    let server: Server;
    let websocket: WebSocketEndpoint;
    let url: string;
    let org: { apiKey: string; rawId: string };
    let connection: { id: string; rowId: string; account: string };
    let snippets: string[];
    let step = 0;

    /** Posts payout updates, one a second apart, until `done` settles: nothing announces that a subscriber is ready. */
    async function updateUntil(done: Promise<unknown>, type = "payout.updated") {
      let settled = false;
      void done.finally(() => (settled = true)).catch(() => {});
      const payout = await world.gateway.deps.db.prisma.stripePayout.findFirstOrThrow({
        where: { connectionId: connection.rowId },
      });
      const deadline = Date.now() + 20_000;
      while (!settled && Date.now() < deadline) {
        step += 1;
        const event = makeEvent(
          type,
          { ...(payout.raw as { id: string }), status: step % 2 ? "in_transit" : "paid" },
          { account: connection.account, created: world.clock.seconds() + step },
        );
        await postWebhook(world.gateway.app, org.rawId, JSON.stringify(event), {
          timestamp: world.clock.seconds(),
        });
        await Promise.race([done.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 250))]);
      }
      return done;
    }

    beforeAll(async () => {
      snippets = await readmeSnippets();
      world = await startConnectWorld(target, { accounts: 1, seed: "readme" });
      const created = await world.createOrg("README");
      org = { apiKey: created.apiKey, rawId: created.rawId };
      const keys = world.emulator.emulator.platforms[0]!.keys.test;
      await world.gateway.gql(
        ConfigureStripe,
        {
          input: { clientId: keys.clientId, secretKey: keys.secretKey, webhookSigningSecret: WEBHOOK_SECRET },
        },
        org.apiKey,
      );
      const account = world.emulator.emulator.accountIds[0]!;
      connection = { ...(await connectAccount(world, org.apiKey, account)), account };
      await world.gateway.deps.sync.idle();
      server = await new Promise<Server>((resolve) => {
        const started = serve({ fetch: world.gateway.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
          resolve(started as Server),
        ) as Server;
      });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      websocket = attachWebSocket(server, world.gateway.app.graphql, world.gateway.deps);
    }, 120_000);
    afterAll(async () => {
      await websocket?.close();
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      await world?.close();
    });

    for (const transport of ["graphql-sse", "graphql-ws"]) {
      it(`the change feed's ${transport} example resumes after the stored sequence`, async () => {
        const [snippet] = (await readmeSnippets("### The change feed")).filter((code) =>
          code.includes(`from "${transport}"`),
        );
        expect(snippet, `a ${transport} example in "The change feed"`).toBeDefined();
        // Missed while the example was not running: it starts with the first of them.
        const stored = await newestSequence(world, org.rawId);
        const target = { rawId: org.rawId, account: connection.account, connection };
        await changePayout(world, target, "missed");
        await changePayout(world, target, "missed again");
        const run = await runSnippet(snippet!, url, {
          apiKey: org.apiKey,
          connectionId: connection.id,
          lastSequence: stored,
        });
        try {
          const change = (await run.logged) as { sequence: string; type: string };
          expect(change).toMatchObject({ sequence: String(BigInt(stored) + 1n), type: "payout.updated" });
        } finally {
          await run.cleanup();
        }
      });
    }

    it("has an SSE and a WebSocket example", () => {
      expect(snippets).toHaveLength(2);
      expect(snippets[0]).toContain('from "graphql-sse"');
      expect(snippets[1]).toContain('from "graphql-ws"');
    });

    it("the graphql-sse example receives payout updates", async () => {
      const run = await runSnippet(snippets[0]!, url, { apiKey: org.apiKey, connectionId: connection.id });
      try {
        const payout = (await updateUntil(run.logged)) as { stripeId: string; status: string };
        expect(payout.stripeId).toMatch(/^po_/);
        expect(["in_transit", "paid"]).toContain(payout.status);
      } finally {
        await run.cleanup();
      }
    });

    it("the graphql-ws example receives stored payout events", async () => {
      const run = await runSnippet(snippets[1]!, url, { apiKey: org.apiKey, connectionId: connection.id });
      try {
        const event = (await updateUntil(run.logged)) as { stripeId: string; type: string };
        expect(event).toMatchObject({ type: "payout.updated", stripeId: expect.stringMatching(/^evt_/) });
      } finally {
        await run.cleanup();
      }
    });
  },
);
