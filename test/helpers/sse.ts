import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import type { App } from "../../src/app.ts";

type Payload<T> = { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };

/**
 * Subscribes over GraphQL-over-SSE (distinct connections) through app.fetch; yields each `next` payload.
 * `lastEventId` is the id of the last event read (an SSE `id:` line), as a reconnect would send it back.
 */
export async function subscribeSSE<T, V>(
  app: App,
  document: TypedDocumentNode<T, V>,
  variables: V,
  apiKey: string,
  headers: Record<string, string> = {},
): Promise<{ next(): Promise<Payload<T>>; close(): void; status: number; lastEventId: string | null }> {
  const controller = new AbortController();
  const response = await app.fetch(
    new Request("http://gateway.test/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${apiKey}`,
        ...headers,
      },
      body: JSON.stringify({ query: print(document), variables }),
      signal: controller.signal,
    }),
  );
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const stream = {
    status: response.status,
    lastEventId: null as string | null,
    async next(): Promise<Payload<T>> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trim())
            .join("\n");
          const id = block.split("\n").find((line) => line.startsWith("id:"));
          if (id) stream.lastEventId = id.slice(3).trim();
          if (block.includes("event: next") && data) return JSON.parse(data);
          if (block.includes("event: complete")) throw new Error("subscription completed");
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += value;
      }
    },
    close: () => controller.abort(),
  };
  return stream;
}
