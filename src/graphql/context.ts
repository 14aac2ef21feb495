import type { Deps } from "../deps.ts";
import type { Org } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";
import type { Credential } from "./auth.ts";

/** Per-request state: a fresh object for every operation. */
export type Context = {
  deps: Deps;
  requestId: string;
  log: Logger;
  /** The org of the API key, or null for an anonymous or admin caller. */
  org: Org | null;
  isAdmin: boolean;
  /** The key or token of the request; null for an anonymous one */
  credential: Credential | null;
  /** The connections (row ids) a browser access token may read; null: every connection of the org */
  connectionScope: ReadonlySet<string> | null;
  /** An SSE reconnect's `Last-Event-ID` (the last change sequence it received); null otherwise */
  lastEventId: string | null;
  /** DataLoaders of this request, by name */
  loaders: Map<string, unknown>;
};

/**
 * What the HTTP layer hands to Yoga with each request. WebSocket operations have no Authorization header:
 * they carry the graphql-ws `connectionParams` instead.
 */
export type ServerContext = {
  requestId: string;
  log: Logger;
  connectionParams?: Readonly<Record<string, unknown>>;
};
