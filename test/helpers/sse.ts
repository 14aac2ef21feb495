import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import type { App } from "../../src/app.ts";

/** Subscribes over GraphQL-over-SSE (distinct connections) through app.fetch; yields each `next` payload. */
export async function subscribeSSE<T, V>(
  app: App,
  document: TypedDocumentNode<T, V>,
  variables: V,
  apiKey: string,
): Promise<{ next(): Promise<{ data?: T; errors?: { message: string }[] }>; close(): void; status: number }> {
  const controller = new AbortController();
  const response = await app.fetch(
    new Request("http://gateway.test/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${apiKey}`,
      },
      body: JSON.stringify({ query: print(document), variables }),
      signal: controller.signal,
    }),
  );
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    status: response.status,
    async next() {
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
}
