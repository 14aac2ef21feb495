import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/**
 * CORS for /graphql: pages on the listed origins may call it (credentials are bearer tokens, never cookies,
 * so no Access-Control-Allow-Credentials); with none listed, no CORS header at all and a browser keeps
 * other sites' pages out. Yoga's own CORS is off: its default answers every origin.
 */
export function graphqlCors(origins: readonly string[]): MiddlewareHandler {
  if (origins.length === 0) return (_c, next) => next();
  return cors({
    origin: [...origins],
    allowMethods: ["GET", "POST", "OPTIONS"],
    // Readable by the page: the id to quote in a support request, and how long to wait after a 429.
    exposeHeaders: ["x-request-id", "retry-after"],
    maxAge: 600,
  });
}
