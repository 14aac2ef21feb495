import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { createEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/create-emulator.ts";

/** Parsed JSON as tests read it (responses are Stripe objects of many shapes). */
// biome-ignore lint/suspicious/noExplicitAny: test assertions index freely into Stripe payloads
export type Json = any;

export interface StartedEmulator {
  emulator: Emulator;
  url: string;
  port: number;
  /** An official SDK client pointed at the emulator. */
  stripe(key: string, config?: Stripe.StripeConfig): Stripe;
  close(): Promise<void>;
}

/** Starts an emulator on a real port 0 for SDK / e2e tests. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<StartedEmulator> {
  const emulator = createEmulator(options);
  const server = await emulator.listen(0);
  return {
    emulator,
    url: server.url,
    port: server.port,
    stripe: (key, config = {}) =>
      new Stripe(key, {
        host: "127.0.0.1",
        port: server.port,
        protocol: "http",
        telemetry: false,
        ...config,
      }),
    close: () => emulator.close(),
  };
}

/** In-process request helper: `call(emulator, "/v1/payouts", { key, account })`. */
export async function call(
  emulator: Emulator,
  path: string,
  init: {
    key?: string;
    account?: string;
    method?: string;
    form?: Record<string, string>;
    json?: unknown;
  } = {},
): Promise<{ status: number; headers: Headers; body: Json }> {
  const headers = new Headers();
  if (init.key) headers.set("authorization", `Bearer ${init.key}`);
  if (init.account) headers.set("stripe-account", init.account);
  let body: string | undefined;
  if (init.form) {
    headers.set("content-type", "application/x-www-form-urlencoded");
    body = new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const response = await emulator.fetch(
    new Request(`http://emulator.test${path}`, {
      method: init.method ?? (body ? "POST" : "GET"),
      headers,
      body,
    }),
  );
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed };
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; account?: string; livemode: boolean; data: Json };
}

/** A tiny HTTP endpoint recording what it receives; `statuses` are answered in turn (then 200). */
export async function startWebhookReceiver(statuses: number[] = []) {
  const received: ReceivedWebhook[] = [];
  const queue = [...statuses];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ headers: request.headers, body, event: JSON.parse(body) });
      response.statusCode = queue.shift() ?? 200;
      response.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
