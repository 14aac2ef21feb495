// The README's webhook receiver, run as written in its own Node process, receiving real deliveries from
// the gateway: it verifies them with `standardwebhooks`, keeps each webhook-id once, and refuses a forgery.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changePayout } from "../helpers/changes.ts";
import { type ConnectedOrg, type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { eventually } from "../helpers/eventually.ts";
import { createEndpoint, RecoverDeliveries } from "../helpers/webhook-endpoints.ts";
import { WEBHOOK_SECRET } from "../helpers/webhooks.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

async function receiverSnippet(): Promise<string> {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("### Signed webhooks to your backend");
  const section = readme.slice(start, readme.indexOf("\n### ", start + 1));
  const [code] = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!);
  if (!code) throw new Error("no receiver in the README's webhook section");
  return code;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe.each(databaseTargets.slice(0, 1))("the README's webhook receiver, as written ($name)", (target) => {
  let world: ConnectWorld;
  let org: ConnectedOrg;
  let child: ChildProcess;
  let file: string;
  let url: string;
  let endpointId: string;
  const lines: string[] = [];

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 1, size: "small", webhooks: { pollMs: 50 } });
    org = await connectedOrg(world, { webhookSigningSecret: WEBHOOK_SECRET });
    world.gateway.deps.webhooks.start();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    const endpoint = await createEndpoint(world.gateway, org.apiKey, { url, types: ["payout.*"] });
    // Under node_modules/, so that the snippet's import resolves to the project's standardwebhooks.
    const dir = path.join(ROOT, "node_modules", ".cache", "readme-snippets");
    await mkdir(dir, { recursive: true });
    file = path.join(dir, `receiver-${process.pid}.mjs`);
    await writeFile(file, await receiverSnippet());
    child = spawn(process.execPath, [file], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), GATEWAY_WEBHOOK_SECRET: endpoint.secret },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      lines.splice(0, lines.length, ...output.split("\n").filter(Boolean));
    });
    await eventually(
      async () => (await fetch(url, { method: "POST", body: "{}" }).catch(() => null))?.status === 400,
      {
        what: "the receiver listens",
      },
    );
    endpointId = endpoint.id;
  }, 120_000);
  afterAll(async () => {
    child?.kill();
    if (file) await rm(file, { force: true });
    await world?.close();
  });

  it("prints each verified change once, and answers a forgery with 400", async () => {
    const since = world.gateway.deps.clock.now();
    const { stripeId } = await changePayout(world, org, "to the README receiver");
    const line = await eventually(() => lines.find((entry) => entry.startsWith("payout.updated ")));
    const change = await world.gateway.deps.db.prisma.stripeChange.findFirstOrThrow({
      where: { orgId: org.rawId },
      orderBy: { sequence: "desc" },
    });
    expect(line).toBe(`payout.updated ${change.sequence} ${stripeId}`);

    // Sent again under the same webhook-id: the receiver keeps it once.
    const recovered = await world.gateway.gql(
      RecoverDeliveries,
      { id: endpointId, since: since.toISOString() },
      org.apiKey,
    );
    expect(recovered.data?.recoverWebhookDeliveries).toMatchObject({ scheduled: 1 });
    await eventually(async () => {
      const deliveries = await world.gateway.deps.db.prisma.webhookDelivery.findMany();
      return deliveries.length === 2 && deliveries.every((delivery) => delivery.status === "SUCCEEDED");
    });
    expect(lines.filter((entry) => entry.startsWith("payout.updated "))).toEqual([line]);

    const forged = await fetch(url, {
      method: "POST",
      headers: {
        "webhook-id": "msg_forged",
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl",
      },
      body: JSON.stringify({ type: "payout.paid", data: {} }),
    });
    expect(forged.status).toBe(400);
  });
});
