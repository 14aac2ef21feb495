// Live changes for this instance's subscribers. Per org with subscribers here, one follower keeps the
// position of the newest change it has handed out and hands each later change to every subscriber, in
// sequence order, each exactly once. It learns of new changes from the `changes:recorded` bell (this
// instance's commits at once; the others' through Redis) and, in case a bell is lost — Redis down, or no
// Redis between instances that share a database — from a look at the org's counter every second. A bell
// that continues its position is handed out as it is (no read); anything else (a gap, a missed bell) is
// read from the log, which is the source of truth.
import type { Clock } from "../clock.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { type Change, fromMessage } from "./change-log.ts";
import { pruneChanges } from "./prune-changes.ts";
import { type ChangeFilter, changeMatches, readChanges } from "./read-changes.ts";

export type ChangeFeedDeps = {
  db: Pick<Database, "prisma">;
  pubsub: Pick<GatewayPubSub, "listen">;
  logger: Pick<Logger, "warn" | "info">;
  clock: Clock;
};

export type ChangeFeedOptions = {
  /** CHANGE_RETENTION_DAYS: changes older than this are pruned by `startPruning`. */
  retentionDays: number;
  /** How often the counters of followed orgs are looked at, whatever the bell says. */
  pollMs?: number;
};

/** Thrown into a subscriber's stream (before anything flows) when its `after` cannot be resumed. */
export class ChangeCursorError extends Error {
  constructor(readonly reason: "expired" | "ahead") {
    super(reason === "expired" ? "change cursor expired" : "change cursor ahead of the log");
    this.name = "ChangeCursorError";
  }
}

export type ChangeFeed = {
  /**
   * The filter's changes after `after` (replayed from the log, oldest first), then live ones, with no
   * gap and no duplicate; without `after`, live ones from now. Rejects with ChangeCursorError when
   * `after` is past retention or ahead of the org's log.
   */
  subscribe(filter: ChangeFilter, after: bigint | null): Promise<AsyncIterableIterator<Change>>;
  /** Prunes the log past its retention now and then every hour, until `close` (the serving processes). */
  startPruning(): void;
  close(): void;
};

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Changes read from the log per statement (replay and catch-up). */
const PAGE = 500;
/** A subscriber this far behind the live changes stops buffering and reads the log instead. */
const MAX_BUFFERED = 10_000;

type Listener = (changes: readonly Change[]) => void;

type Follower = {
  orgId: string;
  /** The newest sequence handed out: every change up to it has reached every listener. */
  position: bigint;
  listeners: Set<Listener>;
  /** Reads from the log, one at a time. */
  reading: Promise<void>;
};

export function createChangeFeed(deps: ChangeFeedDeps, options: ChangeFeedOptions): ChangeFeed {
  const followers = new Map<string, Promise<Follower>>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let pruner: ReturnType<typeof setInterval> | null = null;

  function handOut(follower: Follower, changes: readonly Change[]) {
    const fresh = changes.filter((change) => change.sequence > follower.position);
    if (fresh.length === 0) return;
    follower.position = fresh.at(-1)!.sequence;
    for (const listener of follower.listeners) listener(fresh);
  }

  /** Reads every change after the follower's position from the log and hands it out. */
  function catchUp(follower: Follower) {
    follower.reading = follower.reading.then(async () => {
      for (;;) {
        const page = await readChanges(
          deps.db,
          { orgId: follower.orgId, connectionIds: null, types: null },
          { after: follower.position, limit: PAGE },
        );
        if (page.kind !== "page" || page.changes.length === 0) return;
        handOut(follower, page.changes);
        if (page.changes.length < PAGE) return;
      }
    });
    follower.reading = follower.reading.catch((error) =>
      deps.logger.warn({ err: error, orgId: follower.orgId }, "could not read the change log"),
    );
  }

  const stopListening = deps.pubsub.listen("changes:recorded", ({ orgId, changes }) => {
    void followers.get(orgId)?.then((follower) => {
      const batch = changes.map(fromMessage);
      if (batch.length === 0) return;
      if (batch[0]!.sequence <= follower.position + 1n) handOut(follower, batch);
      else if (batch.at(-1)!.sequence > follower.position) catchUp(follower);
    });
  });

  async function poll() {
    const followed = await Promise.all(followers.values());
    if (followed.length === 0) return;
    const counters = await deps.db.prisma.changeCounter.findMany({
      where: { orgId: { in: followed.map((follower) => follower.orgId) } },
      select: { orgId: true, lastSequence: true },
    });
    for (const { orgId, lastSequence } of counters) {
      const follower = followed.find((candidate) => candidate.orgId === orgId);
      if (follower && lastSequence > follower.position) catchUp(follower);
    }
  }

  function follow(orgId: string): Promise<Follower> {
    let follower = followers.get(orgId);
    if (!follower) {
      follower = deps.db.prisma.changeCounter
        .findUnique({ where: { orgId }, select: { lastSequence: true } })
        .then((counter) => ({
          orgId,
          position: counter?.lastSequence ?? 0n,
          listeners: new Set<Listener>(),
          reading: Promise.resolve(),
        }));
      followers.set(orgId, follower);
      follower.catch(() => followers.delete(orgId));
      timer ??= setInterval(() => {
        poll().catch((error) => deps.logger.warn({ err: error }, "could not look for new changes"));
      }, options.pollMs ?? 1000);
      timer.unref?.();
    }
    return follower;
  }

  async function unfollow(follower: Follower) {
    if (follower.listeners.size > 0) return;
    const current = followers.get(follower.orgId);
    // Only this follower's own entry: the org may be followed anew already.
    if (
      current &&
      (await current) === follower &&
      followers.get(follower.orgId) === current &&
      follower.listeners.size === 0
    )
      followers.delete(follower.orgId);
    if (followers.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  return {
    async subscribe(filter, after) {
      let follower: Follower;
      for (;;) {
        const following = follow(filter.orgId);
        follower = await following;
        // The org's last subscriber here may have left while this one waited: follow it anew then.
        if (followers.get(filter.orgId) === following) break;
      }
      // Attached in the same turn as the check above: the follower cannot be dropped in between.
      const stream = subscriber(deps, follower, filter, () => void unfollow(follower));
      try {
        await stream.start(after);
      } catch (error) {
        await stream.iterator.return?.();
        throw error;
      }
      return stream.iterator;
    },
    startPruning() {
      if (pruner) return;
      const prune = () =>
        pruneChanges(deps, options.retentionDays).then(
          (dropped) => dropped > 0 && deps.logger.info({ dropped }, "pruned the change log"),
          (error) => deps.logger.warn({ err: error }, "could not prune the change log"),
        );
      void prune();
      pruner = setInterval(prune, PRUNE_EVERY_MS);
      pruner.unref?.();
    },
    close() {
      stopListening();
      if (timer) clearInterval(timer);
      if (pruner) clearInterval(pruner);
      timer = null;
      pruner = null;
      followers.clear();
    },
  };
}

/**
 * One subscriber: listens from the moment it attaches (buffering), replays the log from `after` up to
 * the follower's position at that moment, then yields what it buffered and what comes. Its own position
 * is the newest sequence it has passed (yielded or filtered out); nothing at or below it is yielded again.
 */
function subscriber(deps: ChangeFeedDeps, follower: Follower, filter: ChangeFilter, release: () => void) {
  let buffered: Change[] = [];
  /** Fell MAX_BUFFERED behind: what it missed is read from the log. */
  let overflowed = false;
  let wake: (() => void) | null = null;
  let closed = false;
  let position = follower.position;
  /** Replayed changes not yet yielded. */
  let replay: Change[] = [];

  const listener: Listener = (changes) => {
    if (overflowed) return;
    buffered.push(...changes);
    if (buffered.length > MAX_BUFFERED) {
      buffered = [];
      overflowed = true;
    }
    wake?.();
  };
  follower.listeners.add(listener);

  /** Reads the filter's changes in (position, upTo] from the log, a page at a time, into `replay`. */
  async function readUpTo(upTo: bigint) {
    const page = await readChanges(deps.db, filter, { after: position, upTo, limit: PAGE });
    if (page.kind !== "page") throw new ChangeCursorError(page.kind);
    replay = page.changes;
    position = page.changes.length === PAGE ? page.changes.at(-1)!.sequence : upTo;
  }

  let target = follower.position;
  const iterator: AsyncIterableIterator<Change> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      for (;;) {
        if (closed) return { done: true, value: undefined };
        const replayed = replay.shift();
        if (replayed) return { done: false, value: replayed };
        if (position < target) {
          await readUpTo(target);
          continue;
        }
        if (overflowed) {
          overflowed = false;
          buffered = [];
          target = follower.position;
          continue;
        }
        const change = buffered.shift();
        if (change) {
          if (change.sequence <= position) continue;
          position = change.sequence;
          if (changeMatches(filter, change)) return { done: false, value: change };
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    },
    async return() {
      if (!closed) {
        closed = true;
        follower.listeners.delete(listener);
        release();
        wake?.();
      }
      return { done: true, value: undefined };
    },
  };

  return {
    iterator,
    /** Checks `after` against the log (expired, ahead) and sets where the replay starts. */
    async start(after: bigint | null) {
      if (after === null) return;
      const page = await readChanges(deps.db, filter, { after, upTo: target, limit: PAGE });
      if (page.kind !== "page") throw new ChangeCursorError(page.kind);
      if (after >= target) {
        // Already past what this instance has handed out (it is a moment behind the log): skip to it.
        position = after;
        target = after;
        return;
      }
      position = after;
      replay = page.changes;
      if (page.changes.length === PAGE) position = page.changes.at(-1)!.sequence;
      else position = target;
    },
  };
}
