import { execFile, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { type EmulatorCliResult, runEmulatorCli } from "../../src/emulator/cli.ts";

const hasTools = ["curl", "jq", "bash"].every((tool) => spawnSync("which", [tool]).status === 0);

describe.skipIf(!hasTools)("docs/emulator.md", () => {
  let started: EmulatorCliResult | undefined;
  afterAll(() => started?.close());

  it("runs every sh example as written against the CLI's defaults", async () => {
    started = await runEmulatorCli(["--port", "0", "--no-rate-limit"], () => {});
    const markdown = readFileSync(new URL("../../docs/emulator.md", import.meta.url), "utf8");
    const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks.length).toBeGreaterThan(4);
    const script = `set -euo pipefail\n${blocks.join("\n")}`.replaceAll(
      "http://127.0.0.1:12111",
      started!.server.url,
    );
    // Asynchronously: the emulator serves these requests from this very process.
    const { stdout: output } = await promisify(execFile)("bash", ["-c", script], { timeout: 60_000 });
    expect(output).toContain('"name": "Rocket Rides"');
    expect(output).toMatch(/^0$/m); // a paid payout's balance transactions net to zero
    expect(output).toContain("This value must be less than or equal to 100.");
    expect(output).toContain("No such payout: 'po_missing'");
    expect(output).toContain("Invalid API Key provided: sk_test_****1234");
    expect(output).toMatch(/redirect\?code=ac_\w+&state=xyz/);
    expect(output).toContain('"scope": "stripe_apps"');
    expect(output).toContain('"invalid_grant"');
    expect(output).toContain('"scope": "read_only"');
    expect(output).toContain('"error": "invalid_scope"');
    expect(output).toContain(`"stripe_user_id": "${started!.emulator.accountIds[0]}"`);
    expect(output).toContain('"won"');
    expect(output).toContain('"failure_code": "account_closed"');
    expect(output).toContain('"Kavholm Stays"');
    expect(output).toMatch(/^503$/m);
    expect(output).toContain("account.updated");
  });
});
