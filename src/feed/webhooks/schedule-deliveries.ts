// Deliveries are derived from the change log: each endpoint keeps the sequence up to which every change of
// its org has a delivery row (or was not selected), and moves it on in the transaction that writes the
// new rows. Nothing is written beside the change itself on the write path, a restart resumes from the
// stored position, and two instances never schedule the same change twice: the move is conditional on the
// position they both read.
import { randomBytes } from "node:crypto";
import type { Database } from "../../db/client.ts";
import { ValidationError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { Change } from "../change-log.ts";
import { TEST_PING_TYPE } from "../change-types.ts";
import { type ChangeFilter, oldestResumable, readChanges } from "../read-changes.ts";
import { ownEndpoint } from "./endpoints.ts";
import { deliveryBodies, testPingBody } from "./payloads.ts";

export type ScheduleDeps = { db: Pick<Database, "prisma">; logger: Pick<Logger, "warn"> };

/** Changes read, and deliveries written, per statement. */
const PAGE = 500;

type EndpointSelection = {
  id: string;
  orgId: string;
  types: string[];
  connectionIds: string[];
};

const filterOf = (endpoint: EndpointSelection): ChangeFilter => ({
  orgId: endpoint.orgId,
  connectionIds: endpoint.connectionIds.length > 0 ? endpoint.connectionIds : null,
  types: endpoint.types,
});

/** The webhook-id of an endpoint's delivery of a change: the same on every attempt, and on a recovery. */
export const messageIdOf = (endpointId: string, sequence: bigint) => `msg_${endpointId}_${sequence}`;

const deliveryId = () => `whd_${randomBytes(10).toString("hex")}`;

function deliveryRows(
  endpointId: string,
  changes: readonly Change[],
  bodies: Map<bigint, string>,
  now: Date,
) {
  return changes.map((change) => ({
    id: deliveryId(),
    endpointId,
    messageId: messageIdOf(endpointId, change.sequence),
    type: change.type,
    sequence: change.sequence,
    payload: bodies.get(change.sequence)!,
    nextAttemptAt: now,
    createdAt: now,
  }));
}

/**
 * Writes a delivery for every change each enabled endpoint selects past its position. Returns how many
 * it wrote. Endpoints whose org has no newer change cost nothing but the one statement that finds them.
 */
export async function scheduleNewChanges(deps: ScheduleDeps, now: Date): Promise<number> {
  const behind = await deps.db.prisma.$queryRawUnsafe<(EndpointSelection & { scheduledThrough: bigint })[]>(
    `SELECT e."id", e."orgId", e."types", e."connectionIds", e."scheduledThrough" FROM "WebhookEndpoint" e ` +
      `JOIN "ChangeCounter" c ON c."orgId" = e."orgId" WHERE e."enabled" AND c."lastSequence" > e."scheduledThrough"`,
  );
  let written = 0;
  for (const endpoint of behind)
    written += await scheduleEndpoint(deps, endpoint, endpoint.scheduledThrough, now);
  return written;
}

async function scheduleEndpoint(
  deps: ScheduleDeps,
  endpoint: EndpointSelection,
  from: bigint,
  now: Date,
): Promise<number> {
  let position = from;
  let written = 0;
  for (;;) {
    const page = await readChanges(deps.db, filterOf(endpoint), { after: position, limit: PAGE });
    if (page.kind === "ahead") return written;
    if (page.kind === "expired") {
      // Disabled for longer than the log keeps changes: what was pruned meanwhile cannot be sent.
      const oldest = await oldestResumable(deps.db, endpoint.orgId);
      deps.logger.warn(
        { endpointId: endpoint.id, orgId: endpoint.orgId, from: String(position), to: String(oldest) },
        "webhook endpoint resumes past changes the log no longer keeps (CHANGE_RETENTION_DAYS)",
      );
      if (!(await moveOn(deps, endpoint.id, position, oldest, []))) return written;
      position = oldest;
      continue;
    }
    const full = page.changes.length === PAGE;
    const next = full ? page.changes.at(-1)!.sequence : page.lastSequence;
    const bodies = await deliveryBodies(deps.db, page.changes);
    const rows = deliveryRows(endpoint.id, page.changes, bodies, now);
    // Another instance scheduled this page first: it wrote the rows, nothing is left to do here.
    if (!(await moveOn(deps, endpoint.id, position, next, rows))) return written;
    written += rows.length;
    position = next;
    if (!full) return written;
  }
}

/** Writes the rows and moves the endpoint from `from` to `to`, both or neither; false if it had moved. */
async function moveOn(
  deps: ScheduleDeps,
  endpointId: string,
  from: bigint,
  to: bigint,
  rows: ReturnType<typeof deliveryRows>,
): Promise<boolean> {
  return deps.db.prisma.$transaction(async (tx) => {
    const moved = await tx.webhookEndpoint.updateMany({
      where: { id: endpointId, scheduledThrough: from, enabled: true },
      data: { scheduledThrough: to },
    });
    if (moved.count === 0) return false;
    if (rows.length > 0) await tx.webhookDelivery.createMany({ data: rows });
    return true;
  });
}

/**
 * Schedules again every change since `since` that the endpoint selects and has already scheduled, as new
 * deliveries with the same webhook-ids (a receiver that has one drops it). Returns how many.
 */
export async function recoverDeliveries(
  deps: ScheduleDeps,
  orgId: string,
  endpointId: string,
  since: Date,
  now: Date,
): Promise<number> {
  const endpoint = await ownEndpoint(deps, orgId, endpointId);
  const [first] = await deps.db.prisma.$queryRawUnsafe<{ sequence: bigint | null; oldest: Date | null }[]>(
    `SELECT min("sequence") FILTER (WHERE "occurredAt" >= $2) AS "sequence", min("occurredAt") AS "oldest" ` +
      `FROM "StripeChange" WHERE "orgId" = $1`,
    orgId,
    since,
  );
  const pruned = await oldestResumable(deps.db, orgId);
  if (pruned > 0n && (!first?.oldest || new Date(first.oldest) > since))
    throw new ValidationError([
      {
        path: ["since"],
        message: `is before the oldest change the log keeps (${first?.oldest ? new Date(first.oldest).toISOString() : "none"}; CHANGE_RETENTION_DAYS): older changes cannot be sent again`,
      },
    ]);
  if (first?.sequence == null) return 0;
  let position = BigInt(first.sequence) - 1n;
  let scheduled = 0;
  for (;;) {
    const page = await readChanges(deps.db, filterOf(endpoint), {
      after: position,
      upTo: endpoint.scheduledThrough,
      limit: PAGE,
    });
    if (page.kind !== "page" || page.changes.length === 0) return scheduled;
    const rows = deliveryRows(endpoint.id, page.changes, await deliveryBodies(deps.db, page.changes), now);
    await deps.db.prisma.webhookDelivery.createMany({ data: rows });
    scheduled += rows.length;
    position = page.changes.at(-1)!.sequence;
    if (page.changes.length < PAGE) return scheduled;
  }
}

/** A `test.ping` delivery to the endpoint, sent like any other; returns its id. */
export async function scheduleTestPing(
  deps: Pick<ScheduleDeps, "db">,
  orgId: string,
  endpointId: string,
  now: Date,
): Promise<string> {
  await ownEndpoint(deps, orgId, endpointId);
  const id = deliveryId();
  await deps.db.prisma.webhookDelivery.create({
    data: {
      id,
      endpointId,
      messageId: `msg_${endpointId}_test_${randomBytes(6).toString("hex")}`,
      type: TEST_PING_TYPE,
      sequence: 0n,
      payload: testPingBody(now),
      nextAttemptAt: now,
      createdAt: now,
    },
  });
  return id;
}
