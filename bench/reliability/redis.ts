// A private redis-server for the run (its own port, nothing persisted), so that it can be killed and
// started again on the same port: the machine's shared Redis (6379) is never touched.
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { until } from "./phases.ts";
import { freePort, onCleanup } from "./processes.ts";

export type PrivateRedis = {
  port: number;
  url: string;
  /** Kills the server (SIGKILL: as a crash would) and waits for it to exit. */
  kill(): Promise<void>;
  start(): Promise<void>;
};

const answersPing = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(1_000);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });

export async function startPrivateRedis(firstPort: number): Promise<PrivateRedis> {
  const port = await freePort(firstPort);
  let child: ChildProcess | null = null;
  const start = async () => {
    const server = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    child = server;
    await until(
      "redis-server answers PING",
      async () => ((await answersPing(port)) ? true : undefined),
      10_000,
      50,
    );
  };
  const kill = async () => {
    const server = child;
    child = null;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGKILL");
    await exited;
  };
  onCleanup(`private Redis on ${port}`, kill);
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, kill, start };
}
