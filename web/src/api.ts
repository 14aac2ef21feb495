// GraphQL over HTTP: always POST with a JSON body (CSRF prevention refuses header-less GETs), same origin,
// no cookies.
import type { TypedDocumentString } from "./graphql/graphql.ts";
import { readApiKey, signOut } from "./session.ts";

export const GRAPHQL_URL = "/graphql";

type GraphQLError = { message: string; extensions?: { code?: string } };
type GraphQLResponse<T> = { data?: T | null; errors?: GraphQLError[] };

/** A request the gateway refused or could not answer; `code` is the error's extensions.code. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export function authorizationHeader(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** Runs one operation with the signed-in key (or `key`, to check one before keeping it). */
export async function request<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  options: { key?: string } = {},
): Promise<R> {
  const key = options.key ?? readApiKey();
  let response: Response;
  try {
    response = await fetch(GRAPHQL_URL, {
      method: "POST",
      credentials: "omit",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        ...(key ? authorizationHeader(key) : {}),
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new RequestError(
      "The gateway did not answer. Check that it is running, then try again.",
      "NETWORK",
    );
  }
  let body: GraphQLResponse<R>;
  try {
    body = (await response.json()) as GraphQLResponse<R>;
  } catch {
    throw new RequestError(`The gateway answered ${response.status} without a GraphQL response.`, "HTTP");
  }
  const error = body.errors?.[0];
  if (error) {
    const code = error.extensions?.code ?? null;
    if (code === "UNAUTHENTICATED" && !options.key) signOut(error.message);
    if (code === "RATE_LIMITED") {
      const wait = response.headers.get("retry-after");
      throw new RequestError(`${error.message}${wait ? ` Try again in ${wait} s.` : ""}`, code);
    }
    throw new RequestError(error.message, code);
  }
  if (!body.data) throw new RequestError("The gateway sent no data.", "HTTP");
  return body.data;
}

/** The message to show for anything a request threw. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
