// Shared execution of subscription events. graphql-js runs a subscription's selection once per subscriber per
// event; a hundred tabs of one dashboard are a hundred identical executions of every event. Here each
// subscriber keeps its own source stream (its own subscribe resolver, auth check and filters, and its own
// errors), but the execution of one event is shared by every subscriber with the same execution key: the same
// document, operation, variables and credential. The result is memoised on the event payload itself (a
// WeakMap entry, so it goes when the payload does: nothing is registered per subscriber, so nothing leaks when
// one leaves), and its JSON is computed once for all of the SSE responses that write it.
import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  print,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "./context.ts";

/**
 * A payload property naming its SSE event id: the stream writes it as the event's `id:` line, and a client
 * that reconnects sends it back as `Last-Event-ID` (the change feed's sequence).
 */
export const sseEventId = Symbol("SSE event id");
const eventIds = new WeakMap<object, string>();

/** How often an event's selection was executed on the shared path (tests count these, never time). */
export const sharedExecutions = { count: 0 };

/**
 * Shares per-event executions between subscribers of one execution key. Subscribers without a credential
 * take Yoga's ordinary path.
 */
export function useSharedSubscriptionExecution(): Plugin<Context> {
  return {
    onResultProcess: sharedSSEWriter,
    onSubscribe: ({ args, setSubscribeFn }) => {
      const key = executionKey(args as ExecutionArgs & { contextValue: Context });
      if (key === null) return;
      setSubscribeFn((subscribeArgs) => subscribeShared(subscribeArgs as ExecutionArgs, key));
    },
  };
}

/**
 * What makes two subscribers' results interchangeable: the operation (document text, operation name,
 * variables) and the credential's scope. The scope is the credential itself (its kind and id, checked with
 * its secret when the subscriber authenticated), with the org and admin flag it resolved to: results are
 * never shared across orgs, nor across two credentials whatever their scopes (an org's API keys, or browser
 * access tokens narrowed to some connections).
 */
function executionKey(args: ExecutionArgs & { contextValue: Context }): string | null {
  const ctx = args.contextValue;
  if (!ctx?.org) return null;
  const credential = ctx.credential;
  if (credential === null) return null;
  let variables: string;
  try {
    variables = JSON.stringify(args.variableValues ?? {});
  } catch {
    return null;
  }
  return [
    documentText(args.document),
    args.operationName ?? "",
    variables,
    ctx.org.id,
    ctx.isAdmin ? "admin" : "org",
    `${credential.kind}:${credential.id}`,
  ].join("\u0000");
}

/** A parsed document's text, printed once per document object (Yoga caches documents by their text). */
const texts = new WeakMap<DocumentNode, string>();
function documentText(document: DocumentNode): string {
  let text = texts.get(document);
  if (text === undefined) {
    text = print(document);
    texts.set(document, text);
  }
  return text;
}

/** Each event payload's results by execution key. */
const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

function executeOnce(args: ExecutionArgs, key: string, payload: unknown): Promise<ExecutionResult> {
  // Payloads that are not objects cannot carry a memo: executed per subscriber, as graphql-js does.
  if (typeof payload !== "object" || payload === null) return executeEvent(args, payload);
  let byKey = results.get(payload);
  if (!byKey) {
    byKey = new Map();
    results.set(payload, byKey);
  }
  let pending = byKey.get(key);
  if (!pending) {
    sharedExecutions.count += 1;
    const id = (payload as { [sseEventId]?: unknown })[sseEventId];
    pending = executeEvent(args, payload).then((result) => {
      if (typeof id === "string") eventIds.set(result, id);
      return markShared(result);
    });
    byKey.set(key, pending);
  }
  return pending;
}

/**
 * One event's execution, as graphql-js's subscribe maps a source event (rootValue = the payload). No abort
 * signal: the execution may be shared, and one subscriber leaving must not cut it short for the others.
 */
async function executeEvent(args: ExecutionArgs, payload: unknown): Promise<ExecutionResult> {
  const { signal: _signal, ...rest } = args as ExecutionArgs & { signal?: AbortSignal };
  return execute({ ...rest, rootValue: payload });
}

/** Results made on the shared path; only these (the very objects, not copies) have their SSE frame cached. */
const shared = new WeakSet<object>();
function markShared(result: ExecutionResult): ExecutionResult {
  shared.add(result);
  return result;
}

/** graphql-js's subscribe, with each event's execution shared by key. */
async function subscribeShared(
  args: ExecutionArgs,
  key: string,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) return stream;
  const source = stream[Symbol.asyncIterator]();
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    next: async () => {
      const step = await source.next();
      if (step.done) return { done: true, value: undefined };
      return { done: false, value: await executeOnce(args, key, step.value) };
    },
    return: async () => {
      await source.return?.();
      return { done: true, value: undefined };
    },
    throw: async (error: unknown) => {
      if (source.throw) await source.throw(error);
      throw error;
    },
  };
  return iterator;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

type FetchAPI = {
  ReadableStream: typeof ReadableStream;
  Response: typeof Response;
};

/**
 * Yoga's GraphQL-over-SSE writer (distinct connections), writing each event as one chunk instead of two, and
 * a shared result's chunk encoded once for every response that writes it. Taken over only for subscription
 * streams that Yoga would answer with its own SSE processor; everything else stays Yoga's.
 */
const sharedSSEWriter: NonNullable<Plugin<Context>["onResultProcess"]> = ({
  result,
  resultProcessor,
  setResultProcessor,
}) => {
  if (!isAsyncIterable(result)) return;
  if ((resultProcessor as { name?: string } | undefined)?.name !== "processSSEResult") return;
  setResultProcessor(processSSE as never, "text/event-stream");
};

const PING_MS = process.env.NODE_ENV === "test" ? 300 : 12_000;
const encoder = new TextEncoder();
const PING = encoder.encode(":\n\n");
const COMPLETE = encoder.encode("event: complete\ndata:\n\n");
/** The `next` frame of each shared result, encoded once. */
const frames = new WeakMap<object, Uint8Array>();

function frameOf(value: ExecutionResult): Uint8Array {
  const text = () => {
    const id = eventIds.get(value);
    return `${id === undefined ? "" : `id: ${id}\n`}event: next\ndata: ${stringifyResult(value)}\n\n`;
  };
  if (!shared.has(value)) return encoder.encode(text());
  let frame = frames.get(value);
  if (!frame) {
    frame = encoder.encode(text());
    frames.set(value, frame);
  }
  return frame;
}

/**
 * As Yoga serialises a result: without the `http` extensions (of the result and of its errors) and the
 * `unexpected` flag of masked errors.
 */
function stringifyResult(result: ExecutionResult): string {
  if (!result.errors?.length && !(result.extensions as { http?: unknown } | undefined)?.http) {
    return JSON.stringify(result);
  }
  const copy: Record<string, unknown> = { ...result };
  if (result.errors) {
    copy.errors = result.errors.map((error) => {
      const json = (typeof error.toJSON === "function" ? error.toJSON() : { ...error }) as {
        extensions?: Record<string, unknown>;
      };
      const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions ?? {};
      return { ...json, extensions: Object.keys(extensions).length ? extensions : undefined };
    });
  }
  if (result.extensions) {
    const { http: _http, ...extensions } = result.extensions as Record<string, unknown>;
    copy.extensions = Object.keys(extensions).length ? extensions : undefined;
  }
  return JSON.stringify(copy);
}

function processSSE(result: AsyncIterable<ExecutionResult>, fetchAPI: FetchAPI): Response {
  let iterator: AsyncIterator<ExecutionResult>;
  let ping: ReturnType<typeof setInterval> | undefined;
  const stream = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // A ping first: some browsers stall a fetch until something is streamed.
      controller.enqueue(PING);
      ping = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(ping);
        else if (controller.desiredSize > 0) controller.enqueue(PING);
      }, PING_MS);
      iterator = result[Symbol.asyncIterator]();
    },
    async pull(controller) {
      try {
        const step = await iterator.next();
        if (step.value != null) controller.enqueue(frameOf(step.value));
        if (step.done) {
          controller.enqueue(COMPLETE);
          clearInterval(ping);
          controller.close();
        }
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(ping);
      await iterator.return?.();
    },
  });
  return new fetchAPI.Response(stream, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream",
      Connection: "keep-alive",
      "Cache-Control": "no-cache",
      "Content-Encoding": "none",
    },
  });
}
