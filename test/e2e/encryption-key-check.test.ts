import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEntry, runToCompletion } from "../helpers/gateway-process.ts";

describe("the gateway process with a changed ENCRYPTION_KEY", () => {
  let dataDir: string;
  const written = randomBytes(32).toString("base64");
  const other = randomBytes(32).toString("base64");

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "gw-e2e-key-"));
    const created = await runToCompletion("cli.ts", ["org", "create", "--name", "Key", "--json"], {
      DATA_DIR: dataDir,
      ENCRYPTION_KEY: written,
    });
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("exits non-zero before listening, printing what to fix and never a key", async () => {
    const child = runEntry("main.ts", [], {
      DATA_DIR: dataDir,
      ENCRYPTION_KEY: other,
      PORT: "0",
      HOST: "127.0.0.1",
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      // A gateway that starts anyway is stopped at once, so the test fails instead of waiting.
      if (stdout.includes("gateway listening")) child.kill("SIGKILL");
    });
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    const [code] = await once(child, "exit");
    const output = stdout + stderr;
    expect(output).not.toContain("gateway listening");
    expect(code, output).toBe(1);
    expect(stderr).toContain("ENCRYPTION_KEY: the data in this database was encrypted with another key");
    expect(stderr).toContain("Set ENCRYPTION_KEY to the key the data was written with");
    for (const leak of [written, other, "unable to authenticate", "    at "])
      expect(output).not.toContain(leak);
  });
});
