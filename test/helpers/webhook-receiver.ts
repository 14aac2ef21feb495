// An org's backend receiving the gateway's webhooks over real HTTP, verifying each with `standardwebhooks`
// (the specification's own library) as the org would. Its answers are scripted; it can go down and up
// again on the same port (connection refused meanwhile).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export type ReceivedWebhook = {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The body verified against the receiver's current secrets, or null when no secret verifies it */
  verified: DeliveryBody | null;
  /** When the request arrived (performance.now()) */
  at: number;
};

export type DeliveryBody = {
  type: string;
  timestamp: string;
  data: {
    sequence: string;
    connection: { id: string; stripeAccountId: string | null; status: string; metadata: unknown } | null;
    object: (Record<string, unknown> & { id?: string }) | null;
  };
};

/** What to answer a request: a status with headers, after an optional wait; "hang" never answers. */
export type Answer = { status: number; headers?: Record<string, string>; delayMs?: number } | "hang";

export type WebhookReceiver = {
  url: string;
  received: ReceivedWebhook[];
  /** Requests being answered right now, and the most at once */
  concurrent: { now: number; max: number };
  /** Secrets to verify with (the org's, as shown once) */
  secrets: string[];
  /** Decides each answer (default: 204 at once) */
  answer: (request: ReceivedWebhook) => Answer;
  /** Verified deliveries whose webhook-id was not seen before (what an idempotent receiver keeps) */
  unique(): ReceivedWebhook[];
  /** Stops listening (connections refused) … */
  down(): Promise<void>;
  /** … and listens on the same port again. */
  up(): Promise<void>;
  close(): Promise<void>;
};

export async function startWebhookReceiver(path = "/hooks/gateway"): Promise<WebhookReceiver> {
  const hanging = new Set<ServerResponse>();
  let port = 0;
  let server: Server;

  const receiver: WebhookReceiver = {
    url: "",
    received: [],
    concurrent: { now: 0, max: 0 },
    secrets: [],
    answer: () => ({ status: 204 }),
    unique() {
      const seen = new Set<string>();
      return receiver.received.filter((item) => item.verified && !seen.has(item.id) && seen.add(item.id));
    },
    down: () => stop(),
    up: () => listen(),
    async close() {
      for (const response of hanging) response.destroy();
      await stop();
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = {
      "webhook-id": String(request.headers["webhook-id"] ?? ""),
      "webhook-timestamp": String(request.headers["webhook-timestamp"] ?? ""),
      "webhook-signature": String(request.headers["webhook-signature"] ?? ""),
    };
    const item: ReceivedWebhook = {
      id: headers["webhook-id"],
      timestamp: headers["webhook-timestamp"],
      signature: headers["webhook-signature"],
      body,
      verified: verify(receiver.secrets, body, headers),
      at: performance.now(),
    };
    receiver.received.push(item);
    receiver.concurrent.now += 1;
    receiver.concurrent.max = Math.max(receiver.concurrent.max, receiver.concurrent.now);
    const answer = receiver.answer(item);
    const finish = () => {
      receiver.concurrent.now -= 1;
    };
    if (answer === "hang") {
      hanging.add(response);
      response.on("close", finish);
      return;
    }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    finish();
    response.writeHead(answer.status, answer.headers).end();
  }

  function listen() {
    server = createServer((request, response) => {
      if (request.method !== "POST" || request.url !== path) return void response.writeHead(404).end();
      handle(request, response).catch(() => response.destroy());
    });
    return new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        port = (server.address() as AddressInfo).port;
        receiver.url = `http://127.0.0.1:${port}${path}`;
        resolve();
      });
    });
  }

  function stop() {
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  await listen();
  return receiver;
}

/** Verifies with each secret in turn, as an org rotating its secret does; null when none verifies. */
export function verify(
  secrets: readonly string[],
  body: string,
  headers: Record<string, string>,
): DeliveryBody | null {
  for (const secret of secrets) {
    try {
      return new Webhook(secret).verify(body, headers) as DeliveryBody;
    } catch {}
  }
  return null;
}
