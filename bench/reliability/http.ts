// Every request the run sends to a gateway goes through here, and every answer (status, headers, body) is
// appended to the run's transcript, one JSON line each: the secrets scan reads it at the end.
import { createWriteStream } from "node:fs";
import { Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from "node:http";

export type Transcript = {
  /** Appends one answer; returns its number (a secret shown on purpose is allowed in that one only). */
  record(entry: {
    source: string;
    method: string;
    path: string;
    status: number;
    headers: unknown;
    body: string;
  }): number;
  readonly file: string;
  readonly count: number;
  close(): Promise<void>;
};

export function createTranscript(file: string): Transcript {
  const stream = createWriteStream(file);
  let count = 0;
  return {
    file,
    get count() {
      return count;
    },
    record(entry) {
      count += 1;
      stream.write(`${JSON.stringify({ n: count, ...entry })}\n`);
      return count;
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

/**
 * status 0: no answer (refused, reset, timed out); -1: not sendable (node refuses the header, say).
 * `record` is the transcript line of the answer.
 */
export type Answer = {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
  error?: string;
  record: number;
};

export type RequestOptions = {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** No Content-Length: the body goes chunked */
  chunked?: boolean;
  timeoutMs?: number;
  /** For streams (SSE): the answer is what arrived within this many ms of the response head */
  streamMs?: number;
  /** Who is answering, in the transcript (default "gateway") */
  source?: string;
};

export type Http = {
  request(url: string, options?: RequestOptions): Promise<Answer>;
  /** POST /graphql with a bearer token */
  graphql(
    base: string,
    token: string | null,
    body: { query: string; variables?: Record<string, unknown> },
    options?: RequestOptions,
  ): Promise<Answer & { json: GraphQLResult | null }>;
  close(): void;
};

export type GraphQLResult = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

export function createHttp(transcript: Transcript, maxSockets = 64): Http {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const send = (url: string, options: RequestOptions = {}, retried = false): Promise<Answer> =>
    new Promise<Answer>((resolve) => {
      const began = performance.now();
      const { method = "GET", body, timeoutMs = 20_000 } = options;
      const target = new URL(url);
      let timer: NodeJS.Timeout | undefined;
      const finish = (status: number, headers: IncomingHttpHeaders, text: string, error?: string) => {
        clearTimeout(timer);
        const record = transcript.record({
          source: options.source ?? "gateway",
          method,
          path: target.pathname,
          status,
          headers,
          body: text,
          ...(error ? { error } : {}),
        });
        resolve({ status, headers, body: text, ms: performance.now() - began, error, record });
      };
      const headers: OutgoingHttpHeaders = { ...options.headers };
      const hasLength = Object.keys(headers).some((name) => name.toLowerCase() === "content-length");
      if (body !== undefined && !options.chunked && !hasLength)
        headers["content-length"] = Buffer.byteLength(body);
      let req: ReturnType<typeof request>;
      try {
        req = request(target, { method, headers, agent });
      } catch (error) {
        return finish(-1, {}, "", error instanceof Error ? error.message : String(error));
      }
      let settled = false;
      const settle = (status: number, head: IncomingHttpHeaders, text: string, error?: string) => {
        if (settled) return;
        settled = true;
        finish(status, head, text, error);
      };
      timer = setTimeout(() => req.destroy(new Error("timed out")), timeoutMs);
      let responded = false;
      req.on("response", (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        const done = () => settle(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString("utf8"));
        res.on("end", done);
        res.on("error", done);
        res.on("close", done);
        if (options.streamMs !== undefined)
          setTimeout(() => {
            done();
            req.destroy();
          }, options.streamMs);
      });
      req.on("error", (error) => {
        // A kept-alive socket the server closed just as it was reused: the request never reached it.
        if (!settled && !retried && req.reusedSocket && !responded) {
          settled = true;
          clearTimeout(timer);
          resolve(send(url, options, true));
          return;
        }
        settle(0, {}, "", error.message);
      });
      req.end(body);
    });
  return {
    request: send,
    async graphql(base, token, body, options = {}) {
      const answer = await send(`${base}/graphql`, {
        ...options,
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...options.headers,
        },
        body: JSON.stringify(body),
      });
      let json: GraphQLResult | null = null;
      try {
        json = JSON.parse(answer.body) as GraphQLResult;
      } catch {
        json = null;
      }
      return { ...answer, json };
    },
    close: () => agent.destroy(),
  };
}

/**
 * A fetch for graphql-sse's client that records each server-sent event (as it completes) in the
 * transcript, so that subscription payloads are scanned too.
 */
export function recordingFetch(transcript: Transcript, source: string): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    const [mine, theirs] = response.body.tee();
    const path = new URL(String(input instanceof Request ? input.url : input)).pathname;
    void (async () => {
      const decoder = new TextDecoder();
      let pending = "";
      const flush = (text: string) =>
        transcript.record({ source, method: "SSE", path, status: response.status, headers: {}, body: text });
      const reader = mine.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          pending += decoder.decode(value, { stream: true });
          const end = pending.lastIndexOf("\n\n");
          if (end >= 0) {
            flush(pending.slice(0, end));
            pending = pending.slice(end + 2);
          }
        }
      } catch {
        // the client aborted the stream
      }
      if (pending) flush(pending);
    })();
    transcript.record({
      source,
      method: init?.method ?? "GET",
      path,
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: "",
    });
    return new Response(theirs, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
