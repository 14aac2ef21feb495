import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { ExecutionArgs } from "graphql";
import { GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Deps } from "../deps.ts";
import { authenticate, bearerToken } from "../graphql/auth.ts";
import { connectionParamsAuthorization, type GraphQLServer } from "../graphql/yoga.ts";

export type WebSocketEndpoint = { close(): Promise<void> };

type Enveloped = Pick<ReturnType<GraphQLServer["getEnveloped"]>, "execute" | "subscribe">;

/**
 * Serves the graphql-ws protocol on /graphql of the given HTTP server, through the one Yoga (envelop)
 * pipeline that also serves HTTP and SSE (the app's): same schema, plugins, error masking and
 * context. The API key travels in `connectionParams.authorization` ("Bearer <key>"); a connection
 * without a valid key is closed with 4403 before any operation runs, and each operation authenticates
 * again when its context is built.
 */
export function attachWebSocket(
  server: Server,
  yoga: GraphQLServer,
  deps: Pick<Deps, "config" | "cache" | "clock" | "keyUsed" | "logger">,
): WebSocketEndpoint {
  // A message is one operation, held to the same size as an HTTP body (ws's default allows 100 MiB).
  const wss = new WebSocketServer({ server, path: "/graphql", maxPayload: deps.config.graphql.maxBodyBytes });
  const log = deps.logger.child({ component: "websocket" });
  const disposable = useServer(
    {
      execute: (args) => ((args as ExecutionArgs).rootValue as Enveloped).execute(args),
      subscribe: (args) => ((args as ExecutionArgs).rootValue as Enveloped).subscribe(args),
      onConnect: async ({ connectionParams }) => {
        try {
          const viewer = await authenticate(
            deps,
            bearerToken(connectionParamsAuthorization(connectionParams ?? {})),
          );
          return viewer.org !== null || viewer.isAdmin;
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const requestId = randomUUID();
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          requestId,
          log: log.child({ requestId }),
          connectionParams: ctx.connectionParams ?? {},
          params: payload,
        } as never);
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError("Syntax error.")];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        try {
          return {
            schema,
            operationName: payload.operationName,
            document,
            variableValues: payload.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe } satisfies Enveloped,
          };
        } catch (error) {
          // e.g. the API key was revoked after the connection was accepted
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
    },
    wss,
  );
  return {
    close: async () => {
      await disposable.dispose();
    },
  };
}
