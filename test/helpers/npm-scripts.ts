import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, rm, symlink, unlink } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * A directory that npm sees as this project (its package.json, sources, installed packages, build script
 * and build output, linked), so that a test can run `npm start` there with its own `.env` and `./.data`.
 */
const LINKED = ["package.json", "node_modules", "src", "prisma", "tsconfig.json", "scripts", "build"];

export async function linkProject(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "gw-project-"));
  await chmod(dir, 0o755); // as a checkout is: the embedded server's OS user (run by root) enters ./.data
  for (const entry of LINKED) await symlink(path.join(ROOT, entry), path.join(dir, entry));
  return dir;
}

/** Removes a linkProject directory: its links first (never what they point to), then its own files. */
export async function removeProject(dir: string): Promise<void> {
  for (const entry of LINKED) await unlink(path.join(dir, entry)).catch(() => {});
  await rm(dir, { recursive: true, force: true });
}

export type NpmRun = {
  child: ChildProcess;
  output(): string;
  stderr(): string;
  /** Resolves once `text` has been printed; rejects if the process exits first. */
  printed(text: string | RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** Runs `npm <args>` in `cwd` with only PATH and HOME from this environment, plus `env`. */
export function runNpm(cwd: string, args: string[], env: Record<string, string> = {}): NpmRun {
  const child = spawn("npm", args, {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => {
    output += chunk;
    stderr += chunk;
  });
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const printed = (text: string | RegExp, timeoutMs = 90_000) =>
    new Promise<string>((resolve, reject) => {
      const found = () => (typeof text === "string" ? output.includes(text) : text.test(output));
      const timer = setTimeout(() => done(new Error(`"${text}" was not printed:\n${output}`)), timeoutMs);
      const onData = () => found() && done();
      const onExit = () =>
        done(new Error(`npm ${args.join(" ")} exited before printing "${text}":\n${output}`));
      const done = (error?: Error) => {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.stderr!.off("data", onData);
        child.off("exit", onExit);
        if (error) reject(error);
        else resolve(output);
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", onExit);
      if (found()) done();
    });
  return { child, output: () => output, stderr: () => stderr, printed, exited };
}

/** The processes whose parent is `pid` (pgrep -P, on Linux and macOS). */
export async function childPids(pid: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)("pgrep", ["-P", String(pid)]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").filter(Boolean).map(Number);
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A port nothing listens on at the moment. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
