import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { GraphQLError } from "graphql";
import {
  createGraphQLError,
  createYoga,
  maskError,
  type Plugin,
  type YogaServerInstance,
} from "graphql-yoga";
import type { Deps } from "../deps.ts";
import { authenticate, bearerToken } from "./auth.ts";
import type { Context, ServerContext } from "./context.ts";
import { GRAPHIQL_OPTIONS, GRAPHIQL_PAGE } from "./graphiql.ts";
import { useQueryLimits } from "./limits.ts";
import { useNoIntrospection, useNoSuggestions } from "./production-mode.ts";
import { limitCredential } from "./rate-limit.ts";
import { schema } from "./schema.ts";
import { useSharedSubscriptionExecution } from "./shared-subscriptions.ts";
import { useAccessTokenLifetime } from "./token-lifetime.ts";

export type GraphQLServer = YogaServerInstance<ServerContext, Context>;

/** The one Yoga of an app: app.ts serves it over HTTP and SSE, http/websocket.ts over WebSocket. */
export function createGraphQLServer(deps: Deps): GraphQLServer {
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: deps.config.env !== "production" && GRAPHIQL_OPTIONS,
    // The page whose inline scripts GraphiQL's Content-Security-Policy allows by their hashes.
    renderGraphiQL: () => GRAPHIQL_PAGE,
    // CORS is app.ts's (http/cors.ts, CORS_ORIGINS): Yoga's default answers every origin.
    cors: false,
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
    // Yoga's own limit re-wraps every body in a TransformStream and a new Request, which also makes
    // @hono/node-server build a full undici Request per request: useBodySizeLimit checks the same.
    maxRequestBodySize: false,
    plugins: [
      useBodySizeLimit(deps.config.graphql.maxBodyBytes),
      // Browsers preflight every cross-site request but a "simple" one (a GET, or a form's content type):
      // those must carry an x-graphql-yoga-csrf header, which a page on another site cannot add unasked.
      useCSRFPrevention(),
      ...useQueryLimits(deps.config.graphql),
      ...(deps.config.graphql.introspection ? [] : [useNoIntrospection()]),
      ...(deps.config.env === "production" ? [useNoSuggestions()] : []),
      useUnexpectedErrorLogging(),
      useBadRequestStatus(),
      useSharedSubscriptionExecution(),
      useAccessTokenLifetime(deps),
    ],
    context: async ({ request, requestId, log, connectionParams }): Promise<Context> => {
      const header = connectionParams
        ? connectionParamsAuthorization(connectionParams)
        : request.headers.get("authorization");
      const viewer = await authenticate(deps, bearerToken(header));
      await limitCredential(deps, viewer.credential);
      return {
        deps,
        requestId,
        log: viewer.org && log.isLevelEnabled("fatal") ? log.child({ orgId: viewer.org.id }) : log,
        ...viewer,
        lastEventId: connectionParams ? null : request.headers.get("last-event-id"),
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

const CONTENT_LENGTH = /^\d+$/;

const bodyTooLarge = (limit: number) =>
  createGraphQLError(`Request body too large: at most ${limit} bytes (GRAPHQL_MAX_BODY_BYTES).`, {
    extensions: { http: { status: 413 }, code: "REQUEST_ENTITY_TOO_LARGE" },
  });

/**
 * Yoga's request-body limit (useLimitRequestBodySize, with the same errors), without its per-request
 * cost when the request says its length: node:http reads exactly Content-Length bytes of body (and
 * refuses Content-Length beside Transfer-Encoding), so a valid Content-Length within the limit bounds
 * the body. Only a body of unknown length (chunked) is counted as it is read, as Yoga does.
 */
function useBodySizeLimit(limit: number): Plugin<Context> {
  return {
    onRequestParse: ({ request, requestParser, setRequestParser, fetchAPI }) => {
      const contentLength = request.headers.get("content-length");
      if (contentLength != null) {
        if (!CONTENT_LENGTH.test(contentLength)) {
          throw createGraphQLError("Content-Length header is invalid.", {
            extensions: { http: { status: 400 }, code: "BAD_REQUEST" },
          });
        }
        if (Number(contentLength) > limit) throw bodyTooLarge(limit);
        return;
      }
      if (requestParser == null || request.method === "GET" || request.method === "HEAD") return;
      const body = request.body;
      if (!body) return;
      const Transform =
        body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
      let bytesRead = 0;
      const limited = body.pipeThrough(
        new Transform({
          transform(chunk: Uint8Array, controller) {
            bytesRead += chunk.byteLength;
            if (bytesRead > limit) return controller.error(bodyTooLarge(limit));
            controller.enqueue(chunk);
          },
        }),
      );
      const original = requestParser;
      setRequestParser((parsed) =>
        original(
          new fetchAPI.Request(parsed.url, {
            method: parsed.method,
            headers: parsed.headers,
            signal: parsed.signal,
            body: limited,
            duplex: "half",
          } as RequestInit),
        ),
      );
    },
  };
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
