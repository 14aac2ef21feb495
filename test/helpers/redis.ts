import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { eventually } from "./eventually.ts";

export const redisUrl = process.env.TEST_REDIS_URL || null;
if (!redisUrl) {
  console.warn("\n!!! TEST_REDIS_URL is not set: the Redis tests are SKIPPED (.ci/run always sets it).\n");
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A private redis-server (no persistence) that a test can stop and start again on the same port, to take
 * "Redis" down under running gateways without touching the shared one.
 */
export async function startScratchRedis(port?: number) {
  const chosen = port ?? (await freePort());
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(chosen), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on("data", (chunk: Buffer) => {
        output += chunk;
        if (output.includes("Ready to accept connections")) resolve();
      });
      child!.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${chosen}`, port: chosen, start, stop };
}

/** Checks `condition` every 20 ms until it holds, for states no event announces (e.g. a Redis SUBSCRIBE). */
export async function waitUntil(
  condition: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 15_000,
) {
  await eventually(condition, { what, timeoutMs, intervalMs: 20 });
}
