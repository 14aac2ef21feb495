import { GraphQLError } from "graphql";
import { createYoga, maskError, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { Deps } from "../deps.ts";
import { authenticate, bearerToken } from "./auth.ts";
import type { Context, ServerContext } from "./context.ts";
import { schema } from "./schema.ts";

export type GraphQLServer = YogaServerInstance<ServerContext, Context>;

/** The one Yoga of an app: app.ts serves it over HTTP and SSE, http/websocket.ts over WebSocket. */
export function createGraphQLServer(deps: Deps): GraphQLServer {
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: deps.config.env !== "production" && { title: "Stripe Connect Gateway" },
    logging: {
      debug: (...args) => deps.logger.debug({ args }, "yoga"),
      info: (...args) => deps.logger.info({ args }, "yoga"),
      warn: (...args) => deps.logger.warn({ args }, "yoga"),
      error: (...args) => deps.logger.error({ args }, "yoga"),
    },
    // isDev false always: Yoga's development masking puts messages and stack traces in responses.
    maskedErrors: { maskError: (error, message) => maskError(error, message, false) },
    // Yoga's default, said here: parsed and validated documents are cached (LRU) by their text.
    // @envelop/graphql-jit was measured and left out: 2.7–3.2× slower per request on documents that
    // differ each time (it compiles each new one), and no faster within the noise on a repeated one.
    parserAndValidationCache: true,
    plugins: [useUnexpectedErrorLogging(), useBadRequestStatus()],
    context: async ({ request, requestId, log, connectionParams }): Promise<Context> => {
      const header = connectionParams
        ? connectionParamsAuthorization(connectionParams)
        : request.headers.get("authorization");
      const viewer = await authenticate(deps, bearerToken(header));
      return {
        deps,
        requestId,
        log: viewer.org ? log.child({ orgId: viewer.org.id }) : log,
        ...viewer,
        loaders: new Map(),
      };
    },
  });
}

/**
 * The `Bearer <key>` a graphql-ws client sends as `connectionParams: { authorization }` (browsers cannot set
 * headers on a WebSocket); `Authorization` is accepted too.
 */
export function connectionParamsAuthorization(params: Readonly<Record<string, unknown>>): string | null {
  const value = params.authorization ?? params.Authorization;
  return typeof value === "string" ? value : null;
}

/** Logs, with the request's logger, every error that Yoga is about to mask. */
function useUnexpectedErrorLogging(): Plugin<Context> {
  return {
    onExecute: () => ({
      onExecuteDone: ({ args, result }) => {
        if (!("errors" in result) || !result.errors) return;
        for (const error of result.errors) {
          const original = error.originalError;
          if (!original || original instanceof GraphQLError) continue;
          args.contextValue.log.error(
            { err: original, path: error.path },
            "unexpected error in GraphQL execution",
          );
        }
      },
    }),
  };
}

/**
 * Unparsable or invalid documents answer 400 whatever the Accept header. Yoga marks their status as
 * applying only to graphql-response+json clients ("spec") and answers plain application/json with 200,
 * which hides the failure from HTTP-level monitoring.
 */
function useBadRequestStatus(): Plugin<Context> {
  return {
    onResultProcess: ({ result }) => {
      if (Array.isArray(result) || !("errors" in result) || !result.errors) return;
      for (const error of result.errors) {
        const http = (error.extensions as { http?: { spec?: boolean } } | undefined)?.http;
        if (http?.spec) delete http.spec;
      }
    },
  };
}
