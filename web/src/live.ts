// Subscriptions over GraphQL-over-SSE (graphql-sse, "distinct connections": one stream per subscription),
// with the same bearer key as every request. The client reconnects by itself after a network error.
import { type Client, createClient } from "graphql-sse";
import { authorizationHeader, GRAPHQL_URL } from "./api.ts";
import type { TypedDocumentString } from "./graphql/graphql.ts";
import { readApiKey } from "./session.ts";

let client: Client | null = null;

function liveClient(): Client {
  client ??= createClient({
    url: GRAPHQL_URL,
    credentials: "omit",
    headers: (): Record<string, string> => {
      const key = readApiKey();
      return key ? authorizationHeader(key) : {};
    },
    retryAttempts: Number.POSITIVE_INFINITY,
    // graphql-sse's own backoff doubles without a bound; a dashboard left open should reconnect within 30 s.
    retry: (retries) => wait(Math.min(1_000 * 2 ** retries, 30_000) * (0.5 + Math.random() / 2)),
  });
  return client;
}

/** Ends every stream (on sign-out). */
export function closeLiveClient(): void {
  client?.dispose();
  client = null;
}

export type LiveHandlers<R> = {
  next(data: R): void;
  error(message: string): void;
  /** Called once the stream is open (again, after a reconnect). */
  connected?(): void;
};

/** Subscribes; returns the function that unsubscribes. */
export function subscribe<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  handlers: LiveHandlers<R>,
): () => void {
  return liveClient().subscribe<R>(
    { query: document.toString(), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        if (result.data) handlers.next(result.data);
        else if (result.errors?.[0]) handlers.error(result.errors[0].message);
      },
      error: (error) => handlers.error(describe(error)),
      complete: () => {},
    },
    { connected: () => handlers.connected?.() },
  );
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map((item: { message?: string }) => item.message).join("; ");
  return "The live stream stopped.";
}
