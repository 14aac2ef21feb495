// What the caller may read: every connection of its org with an API key, the listed ones with a browser
// access token. Whatever is outside answers as if it did not exist.
import { findConnection } from "../connections/lifecycle.ts";
import type { Context } from "./context.ts";
import { notFound } from "./errors.ts";

type Scoped = Pick<Context, "org" | "connectionScope">;

/** The org of the caller's API key, or "" (which finds nothing) for a browser token or no key. */
export const apiKeyOrgId = (ctx: Pick<Context, "org" | "credential">) =>
  ctx.credential?.kind === "apiKey" ? (ctx.org?.id ?? "") : "";

/** Whether the caller may read this connection (by its row id). */
export function mayRead(ctx: Scoped, connectionId: string): boolean {
  return ctx.org !== null && (ctx.connectionScope === null || ctx.connectionScope.has(connectionId));
}

/** A Prisma `where` of StripeConnection rows the caller may read (also inside unique lookups). */
export function readableConnections(ctx: Scoped) {
  return {
    orgId: ctx.org?.id ?? "",
    ...(ctx.connectionScope ? { AND: [{ id: { in: [...ctx.connectionScope] } }] } : {}),
  };
}

/** The same of rows that point at their connection by `connectionId` (events, synced objects). */
export function readableByConnection(ctx: Scoped) {
  return ctx.connectionScope ? { connectionId: { in: [...ctx.connectionScope] } } : {};
}

type GlobalId = { typename: string; id: string };

/**
 * The connection a subscription narrows to (its row id), checked at subscribe time: another org's
 * connection, or one outside a token's scope, looks exactly like a missing one, and either refuses the
 * subscription before any event flows. Null when none is given.
 */
export async function narrowTo(
  ctx: Context,
  connectionId: GlobalId | null | undefined,
): Promise<string | null> {
  if (!connectionId) return null;
  const missing = () => notFound("No such connection in this org.");
  if (connectionId.typename !== "StripeConnection" || !mayRead(ctx, connectionId.id)) throw missing();
  return findConnection(ctx.deps, ctx.org!.id, connectionId.id).then(
    (connection) => connection.id,
    () => {
      throw missing();
    },
  );
}

/** The events of a subscription: of the caller's org, and of `only` or else of what the caller may read. */
export function subscribedTo(ctx: Context, only: string | null) {
  const orgId = ctx.org!.id;
  const scope = ctx.connectionScope;
  return <E extends { orgId: string; connectionId: string | null }>(event: E) =>
    event.orgId === orgId &&
    (only !== null
      ? event.connectionId === only
      : scope === null || (event.connectionId !== null && scope.has(event.connectionId)));
}
