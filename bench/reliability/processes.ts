// What the run starts, it stops: every private server and child registers how to end it, and the run
// ends them all (by their own pids) when it finishes, fails or is interrupted.
import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";

const cleanups: { name: string; run: () => Promise<void> }[] = [];

/** Registers `run` to end something this run started; returns a function that unregisters it. */
export function onCleanup(name: string, run: () => Promise<void>): () => void {
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const index = cleanups.indexOf(entry);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

/** Ends everything registered, newest first; each gets 10 s. */
export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const entry = cleanups.pop()!;
    await Promise.race([
      entry.run().catch((error: unknown) => console.error(`cleanup ${entry.name}: ${String(error)}`)),
      new Promise((resolve) => setTimeout(resolve, 10_000)),
    ]);
  }
}

export const run = promisify(execFile);

/** The first port from `first` on that nothing listens on at 127.0.0.1. */
export async function freePort(first: number): Promise<number> {
  for (let port = first; port < first + 50; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${first}–${first + 49}`);
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
