import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");

export type GatewayProcess = {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
};

/** Another OS user to run a process as (the suite runs as root here). */
export type RunAs = { uid: number; gid: number };

/** Children still running; a test that timed out may have left one (and its embedded cluster) behind. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGTERM"); // a gateway stops its cluster on SIGTERM
});

/** Runs `src/<entry>` in a child Node process with tsx, like `npm start` does. */
export function runEntry(
  entry: string,
  args: string[],
  env: Record<string, string>,
  as?: RunAs,
): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "src", entry), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...as,
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Starts the real gateway (src/main.ts) on a free port and waits until it listens. */
export async function startGatewayProcess(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<GatewayProcess> {
  const child = runEntry("main.ts", [], { PORT: "0", HOST: "127.0.0.1", ...env });
  let output = "";
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const port = /"port":(\d+)[^\n]*gateway listening/.exec(output)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve(Number(port));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${output}`));
    });
  });
  const port = await listening;
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Runs a command to completion and returns its exit code and output. */
export async function runToCompletion(
  entry: string,
  args: string[],
  env: Record<string, string>,
  as?: RunAs,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runEntry(entry, args, env, as);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const [code] = await once(child, "exit");
  return { code: code as number | null, stdout, stderr };
}

/** POSTs `query` to a gateway process's /graphql with a bearer key; the JSON body, typed by the caller. */
export async function postGraphql<Data>(
  url: string,
  query: string,
  key: string,
): Promise<{ data?: Data; errors?: { message: string }[] }> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Data; errors?: { message: string }[] };
}
