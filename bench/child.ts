// Servers under measurement run in their own process (bench/servers/*), so autocannon and the SSE
// subscribers in this one do not share their event loop. They talk over IPC: one `ready` message with
// what the server offers, then answers to `call`s.
import { type ChildProcess, fork } from "node:child_process";

export type Child<Info> = {
  info: Info;
  /** Asks the child to do `name` (a handler of its own) and waits for its answer. */
  call<T = unknown>(name: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
};

type Message =
  | { type: "ready"; info: unknown }
  | { type: "answer"; id: number; value?: unknown; error?: string };

export async function startChild<Info>(
  script: string,
  env: Record<string, string | undefined> = {},
  startTimeoutMs = 180_000,
): Promise<Child<Info>> {
  const child: ChildProcess = fork(new URL(`./servers/${script}`, import.meta.url), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), startTimeoutMs);
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    child.on("message", (message: Message) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(message.info as Info);
      } else {
        const waiting = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiting?.reject(new Error(message.error));
        else waiting?.resolve(message.value);
      }
    });
  });
  child.once("exit", (code) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`${script} exited with ${code}`));
  });
  return {
    info,
    call: <T>(name: string, timeoutMs = 120_000) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error(`${script}: ${name} timed out`)), timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as T);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ type: "call", id, name });
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      // A gateway stops its embedded cluster before it exits: give it time to.
      const forced = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(forced);
    },
  };
}

/**
 * In a child: announces `info` and serves the parent's calls with `handlers`; on SIGTERM or SIGINT (or when
 * the parent is gone) runs `stop` before it exits.
 */
export function serveParent(
  info: unknown,
  handlers: Record<string, () => Promise<unknown>> = {},
  stop: () => Promise<void> = async () => {},
) {
  process.on("message", async (message: { type: string; id: number; name: string }) => {
    if (message.type !== "call") return;
    try {
      const handler = handlers[message.name];
      if (!handler) throw new Error(`no handler ${message.name}`);
      process.send?.({ type: "answer", id: message.id, value: (await handler()) ?? null });
    } catch (error) {
      process.send?.({
        type: "answer",
        id: message.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  });
  const exit = () => void stop().finally(() => process.exit(0));
  process.on("SIGTERM", exit);
  // Ctrl-C reaches the whole process group: stop as on SIGTERM (a gateway's cluster would outlive a kill).
  process.on("SIGINT", exit);
  // The parent is gone (Ctrl-C, crash): so is this server.
  process.on("disconnect", exit);
  process.send?.({ type: "ready", info });
}

/** The URL of a server listening on loopback. */
export const loopbackUrl = (address: unknown) =>
  `http://127.0.0.1:${typeof address === "object" && address && "port" in address ? address.port : 0}`;
