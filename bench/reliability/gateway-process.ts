// The gateway under test, as it is deployed: `src/main.ts` (createDeps + createApp on node:http, workers,
// WebSocket, signal handling) in its own process, configured only through its environment. Its stdout
// and stderr go straight to a log file (every line is scanned for secrets at the end of the run).
import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { sleep } from "./phases.ts";
import { onCleanup } from "./processes.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export type GatewayProcess = {
  name: string;
  url: string;
  pid: number;
  logFile: string;
  /** Exit code or signal once it has exited; null while it runs */
  exit(): string | null;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL after 15 s. */
  stop(): Promise<void>;
};

/** Starts src/main.ts with `env` (on top of PATH and HOME only) and resolves once it listens. */
export async function startGateway(
  name: string,
  env: Record<string, string | undefined>,
  logFile: string,
): Promise<GatewayProcess> {
  const out = openSync(logFile, "a");
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", out, out],
  });
  let exit: string | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exit = signal ?? `code ${code}`;
      resolve();
    }),
  );
  const kill = async (signal: NodeJS.Signals) => {
    if (exit === null) child.kill(signal);
    await exited;
  };
  const stop = async () => {
    if (exit !== null) return;
    child.kill("SIGTERM");
    const forced = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(forced);
  };
  const unregister = onCleanup(`gateway ${name}`, () => kill("SIGKILL"));
  void exited.then(unregister);
  // main.ts logs `gateway listening on …` with the port it was given (PORT=0: any free one).
  const deadline = performance.now() + 120_000;
  let port: number | null = null;
  while (port === null) {
    const text = await readFile(logFile, "utf8");
    const line = text.split("\n").find((entry) => entry.includes('"gateway listening'));
    if (line) port = (JSON.parse(line) as { port: number }).port;
    else if (exit !== null || performance.now() > deadline) {
      await kill("SIGKILL");
      const tail = text.split("\n").slice(-15).join("\n");
      throw new Error(
        `gateway ${name} ${exit === null ? "did not listen within 120 s" : `exited (${exit})`}:\n${tail}`,
      );
    } else await sleep(100);
  }
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    logFile,
    exit: () => exit,
    kill,
    stop,
  };
}
