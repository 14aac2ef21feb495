import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import type { Deps } from "../deps.ts";
import type { GraphQLServer } from "../graphql/yoga.ts";
import { attachWebSocket } from "./websocket.ts";

/** The port could not be bound (EADDRINUSE: another process listens there; EACCES: a privileged port). */
export class ListenError extends Error {
  constructor(
    readonly port: number,
    readonly host: string,
    readonly code: string,
  ) {
    super(
      code === "EADDRINUSE"
        ? `port ${port} is already in use on ${host}`
        : `cannot listen on ${host}:${port} (${code})`,
    );
    this.name = "ListenError";
  }
}

export type ListeningGateway = {
  port: number;
  /**
   * Stops accepting, tells WebSocket clients to go away (1001), ends SSE subscription streams, and
   * resolves once every other in-flight request has been answered — or after `graceMs`, when the
   * remaining connections are cut (`onGraceExceeded` is told).
   */
  close(options: { graceMs: number; onGraceExceeded?: () => void }): Promise<void>;
};

type GatewayHandler = { fetch(request: Request): Promise<Response>; graphql: GraphQLServer };

/**
 * Serves the app on HTTP and its Yoga on WebSocket (graphql-ws at /graphql), like `npm start` does.
 * Rejects with a ListenError when the port cannot be bound; nothing is left listening then.
 */
export async function listenGateway(
  app: GatewayHandler,
  deps: Pick<Deps, "config" | "cache" | "clock" | "keyUsed" | "logger">,
  address: { port: number; host: string },
): Promise<ListeningGateway> {
  const streams = trackEventStreams(app);
  const server = createAdaptorServer({ fetch: streams.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(new ListenError(address.port, address.host, error.code ?? "unknown"));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(address.port, address.host);
  });
  // Attached once listening: ws re-emits the server's errors, which would otherwise surface as a crash.
  const websocket = attachWebSocket(server, app.graphql, deps);

  return {
    port: (server.address() as AddressInfo).port,
    close: async ({ graceMs, onGraceExceeded }) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => {
        onGraceExceeded?.();
        server.closeAllConnections();
      }, graceMs);
      try {
        // Subscriptions never finish on their own: their clients reconnect (to another instance).
        for (const response of streams.open) response.destroy();
        await websocket.close();
        await closed;
      } finally {
        clearTimeout(force);
      }
    },
  };
}

/** Hands the app's responses to Node, keeping those that stream Server-Sent Events (SSE subscriptions). */
function trackEventStreams(app: GatewayHandler) {
  const open = new Set<ServerResponse>();
  const fetch = async (request: Request, env: HttpBindings | Http2Bindings) => {
    const response = await app.fetch(request);
    // createAdaptorServer makes a plain HTTP/1.1 server.
    const { outgoing } = env as HttpBindings;
    if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
      open.add(outgoing);
      outgoing.once("close", () => open.delete(outgoing));
    }
    return response;
  };
  return { fetch, open };
}
