import type { StripeConnection } from "../generated/prisma/client.ts";
import { EVENTS } from "../stripe/resources.ts";
import { applyStripeEvent, finishUnfinishedEvents, type StripeEventPayload } from "./apply-event.ts";
import type { SyncDeps } from "./sync-deps.ts";
import { recordPoll } from "./sync-state.ts";

export const EVENTS_STATE = EVENTS.key;

/**
 * How far before its position the poller reads again. Stripe's list can show an event a little after
 * a newer one, and Stripe's clock is not ours; events already stored are skipped by id.
 */
const POLL_OVERLAP_MS = 5 * 60 * 1000;

/**
 * /v1/events keeps 30 days. A position older than this (a connection that was UNHEALTHY or NEEDS_REAUTH
 * for weeks, a gateway that was down) may have lost events for good: the objects are listed again instead.
 */
const EVENTS_SAFE_AGE_MS = 25 * 24 * 60 * 60 * 1000;

type Connection = Pick<
  StripeConnection,
  "id" | "orgId" | "livemode" | "stripeAccountId" | "eventsPolledUntil"
>;

/** True when the poller can no longer trust /v1/events to hold everything since its position. */
export function pollPositionExpired(deps: Pick<SyncDeps, "clock">, position: Date | null): boolean {
  return position !== null && position.getTime() < deps.clock.now().getTime() - EVENTS_SAFE_AGE_MS;
}

/**
 * Reads every event Stripe lists since a little before the poll position and applies those not yet
 * stored, oldest first, through the same applyStripeEvent as webhooks. The position is the poller's
 * alone — webhooks never move it, so an event they missed is never skipped — and it only moves, after
 * everything listed is applied, to when the listing began. Events whose follow-up (a read from Stripe)
 * failed earlier are finished here too.
 */
export async function pollEvents(deps: SyncDeps, connection: Connection): Promise<number> {
  const listedAt = deps.clock.now();
  const position = connection.eventsPolledUntil ?? listedAt;
  const since = Math.floor((position.getTime() - POLL_OVERLAP_MS) / 1000);
  const events = await listEventsSince(deps, connection, since);
  const known = await storedEventIds(
    deps,
    connection.orgId,
    events.map((event) => event.id),
  );
  let applied = 0;
  for (const event of oldestFirst(events)) {
    if (known.has(event.id)) continue;
    known.add(event.id);
    const result = await applyStripeEvent(deps, connection, event, "poll");
    if (result.outcome === "applied") applied++;
    await result.followUp?.();
  }
  await finishUnfinishedEvents(deps, connection);
  await deps.db.sql(
    `UPDATE "StripeConnection" SET "eventsPolledUntil" = $1, "updatedAt" = $2 ` +
      `WHERE "id" = $3 AND ("eventsPolledUntil" IS NULL OR "eventsPolledUntil" < $1)`,
    [listedAt, new Date(), connection.id],
  );
  await recordPoll(deps, connection.id, EVENTS_STATE, applied);
  return applied;
}

async function listEventsSince(deps: SyncDeps, connection: Connection, since: number) {
  const events: StripeEventPayload[] = [];
  for await (const page of deps.stripeApi.list(connection, EVENTS.path, { created: { gte: since } }))
    events.push(...(page.data as unknown as StripeEventPayload[]));
  return events;
}

/** Stripe lists newest first; within one second its order is the only order there is. */
function oldestFirst(events: StripeEventPayload[]): StripeEventPayload[] {
  return events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => a.event.created - b.event.created || b.index - a.index)
    .map(({ event }) => event);
}

async function storedEventIds(deps: SyncDeps, orgId: string, ids: string[]): Promise<Set<string>> {
  const known = new Set<string>();
  // Weeks of events make a long list: ask in slices, well under any bind-parameter limit.
  for (let start = 0; start < ids.length; start += 1000) {
    const rows = await deps.db.prisma.stripeEvent.findMany({
      where: { orgId, stripeId: { in: ids.slice(start, start + 1000) } },
      select: { stripeId: true },
    });
    for (const row of rows) known.add(row.stripeId);
  }
  return known;
}
