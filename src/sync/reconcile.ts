import type { Deps } from "../deps.ts";
import type { StripeConnection } from "../generated/prisma/client.ts";
import type { StripeList } from "../stripe/api.ts";
import { applyStripeEvent, type StripeEventPayload } from "./apply-event.ts";
import { writeSyncState } from "./sync-state.ts";

export const EVENTS_STATE = "events";

type Connection = Pick<StripeConnection, "id" | "orgId" | "livemode" | "stripeAccountId" | "eventsCursor">;

/**
 * Reads /v1/events since the newest event applied and applies them oldest first, through the same
 * applyStripeEvent as webhooks: a missed webhook is caught here, a delivered one is a duplicate.
 */
export async function reconcileConnection(deps: Deps, connection: Connection): Promise<number> {
  // Events share a second: start at the cursor's second again and let the event ids dedupe.
  const since = Math.floor((connection.eventsCursor ?? deps.clock.now()).getTime() / 1000);
  const events: StripeEventPayload[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await deps.stripeApi.get<StripeList>(connection, "/v1/events", {
      created: { gte: since },
      limit: 100,
      starting_after: startingAfter,
    });
    events.push(...(page.data as unknown as StripeEventPayload[]));
    if (!page.has_more || page.data.length === 0) break;
    startingAfter = page.data.at(-1)!.id;
  }
  let applied = 0;
  for (const event of events.reverse()) {
    const result = await applyStripeEvent(deps, connection, event, "poll");
    if (result.outcome === "applied") applied++;
    await result.followUp?.();
  }
  await writeSyncState(deps, connection.id, EVENTS_STATE, {
    status: "done",
    lastSyncedAt: deps.clock.now(),
    objectsSynced: { increment: applied },
    error: null,
  });
  return applied;
}
