import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmulator, type Emulator, type RunningEmulator } from "../../src/emulator/create-emulator.ts";
import { FaultInjector } from "../../src/emulator/faults.ts";
import { call } from "../helpers/emulator.ts";

const REDIRECT = "https://gateway.example/stripe/proxy/org_1/redirect";

describe("emulator lost answers (drop_response)", () => {
  let emulator: Emulator;
  let key: string;
  let server: RunningEmulator | null = null;

  beforeEach(() => {
    emulator = createEmulator({
      seed: "faults",
      accounts: 1,
      size: "tiny",
      platforms: [{ redirectUris: [REDIRECT] }],
    });
    key = emulator.platforms[0]!.keys.test.secretKey;
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    await emulator.close();
  });

  async function newCode(): Promise<string> {
    const clientId = emulator.platforms[0]!.keys.test.clientId;
    const response = await emulator.fetch(
      new Request(`http://emulator.test/oauth/v2/authorize?client_id=${clientId}&state=st`),
    );
    return new URL(response.headers.get("location")!).searchParams.get("code")!;
  }
  const exchange = (code: string) =>
    call(emulator, "/v1/oauth/token", { key, form: { grant_type: "authorization_code", code } });

  it("consumes the code in-process, then rejects like fetch does", async () => {
    const code = await newCode();
    await call(emulator, "/_emulator/failures", {
      json: { kind: "drop_response", path_prefix: "/v1/oauth/token" },
    });
    await expect(exchange(code)).rejects.toThrow(TypeError);
    const again = await exchange(code);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: "invalid_grant" });
    expect(again.body.error_description).toContain("already been used");
    expect(emulator.control.info().failures).toEqual([]);
  });

  it("rotates the refresh token over a real port, then closes the socket", async () => {
    const granted = await exchange(await newCode());
    const refreshToken = granted.body.refresh_token as string;
    server = await emulator.listen(0);
    emulator.control.injectFailure({ kind: "drop_response", pathPrefix: "/v1/oauth/token" });
    const refresh = () =>
      fetch(`${server!.url}/v1/oauth/token`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
      });
    await expect(refresh()).rejects.toThrow(/fetch failed/);
    const after = await refresh();
    expect(after.status).toBe(400);
    expect(await after.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("counts, matches prefixes and yields to an earlier error or drop", () => {
    const faults = new FaultInjector();
    faults.add({ kind: "drop_response", count: 2, pathPrefix: "/v1/oauth" });
    expect(faults.take("/v1/balance").dropResponse).toBe(false);
    expect(faults.take("/v1/oauth/token")).toMatchObject({ drop: false, dropResponse: true });
    faults.add({ kind: "latency", ms: 5 });
    expect(faults.take("/v1/oauth/token")).toMatchObject({ latencyMs: 5, dropResponse: true });
    expect(faults.take("/v1/oauth/token").dropResponse).toBe(false);

    faults.add({ kind: "drop" });
    faults.add({ kind: "drop_response" });
    expect(faults.take("/v1/charges")).toMatchObject({ drop: true, dropResponse: false });
    expect(faults.take("/v1/charges")).toMatchObject({ drop: false, dropResponse: true });
  });

  it("validates drop_response in the control API", async () => {
    const bad = await call(emulator, "/_emulator/failures", { json: { kind: "drop_response", count: 0 } });
    expect(bad.status).toBe(400);
    const ok = await call(emulator, "/_emulator/failures", { json: { kind: "drop_response", count: 2 } });
    expect(ok.body.failures).toEqual([{ kind: "drop_response", count: 2, remaining: 2 }]);
  });
});
