import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.ts";
import { runEntry } from "../helpers/gateway-process.ts";

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

describe("npm run cli -- demo", () => {
  let demo: ChildProcess;
  let output = "";
  const port = 20_000 + Math.floor(Math.random() * 20_000);

  beforeAll(async () => {
    demo = runEntry("cli.ts", ["demo", "--port", String(port), "--emulator-port", String(port + 1)], {});
    demo.stdout!.on("data", (chunk) => (output += chunk));
    demo.stderr!.on("data", (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), 90_000);
      demo.stdout!.on("data", () => {
        if (output.includes("More connect links")) {
          clearTimeout(timer);
          resolve();
        }
      });
      demo.once("exit", (code) => reject(new Error(`demo exited ${code}:\n${output}`)));
    });
  }, 100_000);
  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      const exited = once(demo, "exit");
      demo.kill("SIGTERM");
      await exited;
    }
  });

  it("walks a person through the whole connect flow against the emulator", async () => {
    const apiKey = /Org API key\s+(\S+)/.exec(output)![1]!;
    const link = /^\s+(http:\/\/127\.0\.0\.1:\d+\/oauth\/v2\/authorize\?\S+)$/m.exec(output)![1]!;
    expect(output).toContain(`Gateway GraphiQL  http://localhost:${port}/graphql`);

    const landing = await approveInBrowser(link);
    expect(landing.status).toBe(200);
    expect(await landing.text()).toContain("is now connected");

    let status = "";
    // The backfill keeps to Stripe's test-mode budget (12.5 requests/s): give it time on a busy machine.
    await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
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
});
