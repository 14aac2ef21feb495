// The GraphQL errors the API shows as they are (Yoga masks every other error). Codes are SCREAMING_SNAKE,
// shared with the REST routes' `{ error: { code, message } }`.
import { GraphQLError } from "graphql";

/** No API key, or one that matches nothing: HTTP 401. */
export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
}

/** A valid API key that may not do this: HTTP 403. */
export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "FORBIDDEN", http: { status: 403 } } });
}

/** Arguments refused before anything runs: HTTP 400. */
export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });
}

/** A change-feed cursor older than the log keeps (CHANGE_RETENTION_DAYS): re-query, then resume. */
export function changeCursorExpired(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "CHANGE_CURSOR_EXPIRED", http: { status: 400 } } });
}

/** Outside mutations (whose outcomes are union members): a missing object, or another org's. */
export function notFound(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "NOT_FOUND" } });
}

/**
 * A credential past its rate limit: HTTP 429 with `Retry-After` (whole seconds); `retryAfterSeconds` says
 * the same to WebSocket clients, which see no headers.
 */
export function rateLimited(message: string, retryAfterSeconds: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: "RATE_LIMITED",
      retryAfterSeconds,
      http: { status: 429, headers: { "retry-after": String(retryAfterSeconds) } },
    },
  });
}

/** A stored amount past what a JSON number holds exactly: the field errors rather than round it. */
export function amountOutOfRange(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "AMOUNT_OUT_OF_RANGE" } });
}
