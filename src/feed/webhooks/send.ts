// One attempt of one delivery: a POST signed as the Standard Webhooks specification says, with the
// specification's own library. Redirects are never followed (a 3xx is a failure), the whole exchange
// is bounded by a timeout, and the socket connects only where the target policy allows.
import http from "node:http";
import https from "node:https";
import { Webhook } from "standardwebhooks";
import { guardedLookup, type TargetPolicy, urlProblem } from "./endpoint-url.ts";
import { parseRetryAfter } from "./retry-schedule.ts";

export type SignedMessage = {
  url: string;
  /** webhook-id: the same on every attempt of the delivery */
  messageId: string;
  body: string;
  /** whsec_… secrets: the current one, and the one before a rotation during its grace period */
  secrets: readonly string[];
  /** webhook-timestamp: when this attempt is made */
  at: Date;
};

export type AttemptOutcome = {
  /** A 2xx answer */
  delivered: boolean;
  statusCode: number | null;
  durationMs: number;
  /** Why it failed, for the org to read (never a secret: none is in the URL) */
  error: string | null;
  /** 410 Gone: the endpoint asks never to be called again */
  gone: boolean;
  /** A 429 or 503 answer's Retry-After */
  retryAfterMs: number | null;
};

export type Sender = {
  send(message: SignedMessage, signal?: AbortSignal): Promise<AttemptOutcome>;
  close(): void;
};

const USER_AGENT = "stripe-connect-gateway-webhooks/1";
/** How much of an error answer's body is kept with the attempt. */
const ERROR_BODY_CHARS = 200;

/** The webhook-signature header: one `v1,<base64>` per secret, space-separated. */
export const signatureHeader = (message: Omit<SignedMessage, "url">) =>
  message.secrets
    .map((secret) => new Webhook(secret).sign(message.messageId, message.at, message.body))
    .join(" ");

export function createSender(options: { policy: TargetPolicy; timeoutMs: number }): Sender {
  // Kept-alive sockets per endpoint host: a busy endpoint is not a TLS handshake per delivery.
  const agents = {
    "http:": new http.Agent({ keepAlive: true }),
    "https:": new https.Agent({ keepAlive: true }),
  };
  const lookup = guardedLookup(options.policy);

  return {
    async send(message, signal) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const refused = urlProblem(message.url, options.policy);
      if (refused) return failure(elapsed(), null, `refused: the URL ${refused}`);
      const url = new URL(message.url);
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message.messageId,
        "webhook-timestamp": String(Math.floor(message.at.getTime() / 1000)),
        "webhook-signature": signatureHeader(message),
      };
      try {
        const answer = await post(url, message.body, headers, {
          agent: agents[url.protocol as "http:" | "https:"],
          lookup,
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        const statusCode = answer.statusCode;
        const delivered = statusCode >= 200 && statusCode < 300;
        if (delivered)
          return {
            delivered,
            statusCode,
            durationMs: elapsed(),
            error: null,
            gone: false,
            retryAfterMs: null,
          };
        const retryAfterMs =
          statusCode === 429 || statusCode === 503 ? parseRetryAfter(answer.retryAfter, message.at) : null;
        return {
          delivered,
          statusCode,
          durationMs: elapsed(),
          error: answerError(statusCode, answer.location, answer.body),
          gone: statusCode === 410,
          retryAfterMs,
        };
      } catch (error) {
        if (timeout.aborted)
          return failure(elapsed(), null, `timed out after ${options.timeoutMs / 1000} s without an answer`);
        return failure(elapsed(), null, networkError(error));
      }
    },
    close() {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

const failure = (durationMs: number, statusCode: number | null, error: string): AttemptOutcome => ({
  delivered: false,
  statusCode,
  durationMs,
  error,
  gone: false,
  retryAfterMs: null,
});

function answerError(statusCode: number, location: string | undefined, body: string): string {
  if (statusCode >= 300 && statusCode < 400)
    return `HTTP ${statusCode}: redirects are not followed${location ? ` (Location: ${location.slice(0, ERROR_BODY_CHARS)})` : ""}; save the final URL`;
  const text = body.trim().slice(0, ERROR_BODY_CHARS);
  return `HTTP ${statusCode}${text ? `: ${text}` : ""}`;
}

function networkError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "EREFUSEDADDRESS") return `refused: ${message}`;
  return code ? `${code}: ${message}` : message;
}

type Answer = { statusCode: number; retryAfter?: string; location?: string; body: string };

/** One POST; resolves with the status and the start of the body once the answer has ended. */
function post(
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: { agent: http.Agent; lookup: ReturnType<typeof guardedLookup>; signal: AbortSignal },
): Promise<Answer> {
  const request = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        agent: options.agent,
        lookup: options.lookup as never,
        signal: options.signal,
      },
      (incoming) => {
        let text = "";
        incoming.setEncoding("utf8");
        incoming.on("data", (chunk: string) => {
          if (text.length < ERROR_BODY_CHARS) text += chunk;
        });
        incoming.on("end", () =>
          resolve({
            statusCode: incoming.statusCode ?? 0,
            retryAfter: header(incoming.headers["retry-after"]),
            location: header(incoming.headers.location),
            body: text,
          }),
        );
        incoming.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
