import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../helpers/eventually.ts";
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

/** What a person does in the browser: open the link, keep the preselected account, press Approve. */
async function approveInBrowser(link: string): Promise<Response> {
  const consent = await fetch(link);
  expect(consent.status).toBe(200);
  const html = await consent.text();
  const form = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(name!, value!.replaceAll("&amp;", "&"));
  }
  form.set("account", /<option value="([^"]+)" selected>/.exec(html)![1]!);
  form.set("decision", "approve");
  const approved = await fetch(new URL("/oauth/consent", link), {
    method: "POST",
    body: form,
    redirect: "manual",
  });
  expect(approved.status).toBe(302);
  return fetch(approved.headers.get("location")!, { redirect: "manual" });
}

type Payout = { stripeId: string; status: string };

describe("npm run cli -- demo", () => {
  let project: string;
  let demo: NpmRun;
  let port: number;
  let emulatorPort: number;
  let output = "";

  beforeAll(async () => {
    port = await freePort();
    emulatorPort = await freePort();
    project = await linkProject();
    demo = runNpm(project, [
      "run",
      "cli",
      "--",
      "demo",
      "--port",
      String(port),
      "--emulator-port",
      String(emulatorPort),
    ]);
    output = await demo.printed("Stop it with Ctrl-C.");
  }, 100_000);
  afterAll(async () => {
    if (demo?.child.exitCode === null) {
      for (const pid of await childPids(demo.child.pid!)) process.kill(pid, "SIGKILL");
      demo.child.kill("SIGKILL");
      await demo.exited;
    }
    if (project) await removeProject(project);
  });

  const apiKey = () => /Org API key\s+(\S+)/.exec(output)![1]!;

  it("walks a person through the whole connect flow against the emulator", async () => {
    const link = /^\s+(http:\/\/127\.0\.0\.1:\d+\/oauth\/v2\/authorize\?\S+)$/m.exec(output)![1]!;
    expect(output).toContain(`Gateway GraphiQL  http://localhost:${port}/graphql`);
    expect(output).toMatch(
      new RegExp(
        `Webhook endpoint  http://localhost:${port}/stripe/webhooks/org_\\w+  \\(we_\\w+, registered`,
      ),
    );

    const landing = await approveInBrowser(link);
    expect(landing.status).toBe(200);
    expect(await landing.text()).toContain("is now connected");

    let status = "";
    // The backfill keeps to Stripe's test-mode budget (12.5 requests/s): give it time on a busy machine.
    await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${apiKey()}` },
          body: JSON.stringify({
            query: "{ stripeConnections { edges { node { status stripeAccountId } } } }",
          }),
        });
        const body = (await response.json()) as {
          data: { stripeConnections: { edges: { node: { status: string; stripeAccountId: string } }[] } };
        };
        status = body.data.stripeConnections.edges[0]?.node.status ?? "";
        return status === "READY";
      },
      { what: "the connection is READY", timeoutMs: 45_000, intervalMs: 100 },
    ).catch(() => {}); // the expectation below names the status last seen

    expect(status).toBe("READY");
  }, 60_000);

  it("prints a command that pays a payout, and a WebSocket subscriber sees it paid", async () => {
    const command = /^ {2}(curl -s -X POST \S+\/_emulator\/payouts\/(po_\w+) .*)$/m.exec(output);
    expect(command, output).not.toBeNull();
    const [, line, payoutId] = command!;
    const account = new RegExp(`move payout ${payoutId} of (acct_\\w+)`).exec(output)![1]!;

    const seen: Payout[] = [];
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${apiKey()}` },
      retryAttempts: 0,
    });
    const unsubscribe = client.subscribe<{ payoutUpdated: Payout }>(
      { query: "subscription { payoutUpdated { stripeId status } }" },
      { next: ({ data }) => data && seen.push(data.payoutUpdated), error: () => {}, complete: () => {} },
    );
    try {
      // Nothing announces that the subscription is live: make other payouts until one is heard of.
      await eventually(
        async () => {
          await fetch(`http://127.0.0.1:${emulatorPort}/_emulator/accounts/${account}/payouts`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ amount: 100 }),
          });
          return eventually(() => seen.length > 0, { timeoutMs: 500 });
        },
        { what: "the subscriber hears of a new payout", timeoutMs: 30_000 },
      );

      // The printed line, run by a shell as a person pastes it.
      const { stdout } = await promisify(execFile)("sh", ["-c", line!]);
      expect(JSON.parse(stdout)).toMatchObject({ id: payoutId, status: "paid" });
      const paid = await eventually(
        () => seen.find((payout) => payout.stripeId === payoutId && payout.status === "paid"),
        { what: `the subscriber sees ${payoutId} paid`, timeoutMs: 30_000 },
      );
      expect(paid).toEqual({ stripeId: payoutId, status: "paid" });
    } finally {
      unsubscribe();
      await client.dispose();
    }
  }, 90_000);

  it("says where the data lives, and stops on SIGINT to npm with nothing left listening and the data gone", async () => {
    const dataDir =
      /Everything lives in (\S+) \(its own embedded PostgreSQL\) and is gone when the demo stops\./.exec(
        output,
      )?.[1];
    expect(dataDir, output).toBeDefined();
    const postmaster = Number(
      (await readFile(path.join(dataDir!, "postgres", "postmaster.pid"), "utf8")).split("\n")[0],
    );
    const [nodePid] = await childPids(demo.child.pid!);
    expect(nodePid, "npm runs the demo as its child").toBeDefined();

    demo.child.kill("SIGINT");
    const exit = await demo.exited;

    expect(exit.code, demo.output()).toBe(0);
    expect(isRunning(nodePid!)).toBe(false);
    expect(await isListening(port)).toBe(false);
    expect(await isListening(emulatorPort)).toBe(false);
    await eventually(() => !isRunning(postmaster), { what: "the demo's PostgreSQL stopped" });
    expect(await stat(dataDir!).catch(() => null)).toBeNull();
  }, 30_000);
});
