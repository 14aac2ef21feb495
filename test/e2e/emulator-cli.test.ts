import { afterAll, describe, expect, it } from "vitest";
import { type EmulatorCliResult, runEmulatorCli } from "../../src/emulator/cli.ts";

describe("emulator CLI", () => {
  let started: EmulatorCliResult | undefined;
  afterAll(() => started?.close());

  it("starts on a port and prints keys, accounts and the gateway's environment lines", async () => {
    const lines: string[] = [];
    started = await runEmulatorCli(
      ["--port", "0", "--size", "tiny", "--accounts", "2", "--decision", "approve"],
      (line) => lines.push(line),
    );
    const output = lines.join("\n");
    const url = started!.server.url;
    const key = started!.emulator.platforms[0]!.keys.test.secretKey;
    expect(output).toContain(`STRIPE_API_URL=${url}`);
    expect(output).toContain(`STRIPE_CONNECT_URL=${url}`);
    expect(output).toContain(`STRIPE_MARKETPLACE_URL=${url}`);
    expect(output).toContain(key);
    expect(output).toContain(started!.emulator.platforms[0]!.keys.test.clientId);
    for (const account of started!.emulator.accountIds) expect(output).toContain(account);
    const response = await fetch(`${url}/v1/account`, {
      headers: { authorization: `Bearer ${key}`, "stripe-account": started!.emulator.accountIds[1]! },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe(started!.emulator.accountIds[1]);
  });

  it("fails to start, rather than hanging, when the port is taken", async () => {
    await expect(
      runEmulatorCli(["--port", String(started!.server.port), "--size", "tiny"], () => {}),
    ).rejects.toThrow(/EADDRINUSE/);
  });

  it("rejects bad options with the usage text", async () => {
    await expect(runEmulatorCli(["--size", "huge"], () => {})).rejects.toThrow(
      /Invalid --size: huge[\s\S]*Usage/,
    );
  });
});
