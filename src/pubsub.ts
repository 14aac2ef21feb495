import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import type { TypedEventListenerOrEventListenerObject } from "@graphql-yoga/typed-event-target";
import { createPubSub as createYogaPubSub, type PubSub, type PubSubEventTarget } from "graphql-yoga";
import { Redis } from "ioredis";
import type { Logger } from "./logger.ts";

/** Payloads carry ids only; subscription resolvers re-read the rows, so they never serve stale data. */
export type ConnectionUpdated = { orgId: string; connectionId: string };
/** `id` is the row id of the synced object (or of the stored event). */
export type ObjectUpdated = { orgId: string; connectionId: string; id: string };
export type EventReceived = ObjectUpdated & { type: string };

/** The topic of one resource's objects, by its Stripe object name (`payout:updated`): one per live resource. */
export type ObjectTopic = `${string}:updated`;

export function objectTopic(stripeObject: string): ObjectTopic {
  return `${stripeObject}:updated`;
}

/**
 * A cached lookup that a write changed (src/orgs/cache.ts): every instance drops it. `key` is an ApiKey id
 * (`apiKey`), an AccessToken id (`accessToken`), or an org id (`org`: its Stripe config and webhook
 * secret; `connections`: the routing of its connections).
 */
export type CacheInvalidation = { kind: "apiKey" | "accessToken" | "org" | "connections"; key: string };

/** New entries of an org's change log (src/feed/change-log.ts), after their commit: a bell with its news. */
export type ChangesRecorded = {
  orgId: string;
  changes: {
    orgId: string;
    sequence: string;
    connectionId: string | null;
    type: string;
    objectId: string | null;
    stripeEventId: string | null;
    occurredAt: string;
  }[];
};

export type Topics = {
  "connection:changed": [ConnectionUpdated];
  "changes:recorded": [ChangesRecorded];
  "cache:invalidate": [CacheInvalidation];
  "stripe-event:received": [EventReceived];
  [topic: ObjectTopic]: [ObjectUpdated];
};

export type GatewayPubSub = PubSub<Topics> & {
  /** "memory" for one process, "redis" when events also travel between instances. */
  readonly kind: "memory" | "redis";
  /** Resolves when Redis answers (always, without Redis). */
  ping(): Promise<void>;
  /**
   * Calls `listener` with every payload of a topic: synchronously for this instance's publishes (so a
   * write's own instance has acted on it before publish() returns), and as they arrive from the others.
   * Returns the function that stops listening.
   */
  listen<T extends "cache:invalidate" | "connection:changed" | "changes:recorded">(
    topic: T,
    listener: (payload: Topics[T][0]) => void,
  ): () => void;
  /**
   * The payloads of a topic that `where` accepts, as one subscriber's stream. Like `pipe(subscribe(topic),
   * filter(where))`, without two Repeaters and an await per event: `where` runs in the event listener, so a
   * subscriber is woken only for its own events. The listener is added on the first `next()` (as Yoga's
   * subscribe does) and removed by `return()`; at most MAX_PENDING payloads wait for a slow reader, after
   * which its stream fails rather than growing without bound.
   */
  subscribeWhere<T extends keyof Topics & string>(
    topic: T,
    where: (payload: Topics[T][0]) => boolean,
  ): AsyncIterableIterator<Topics[T][0]>;
  close(): Promise<void>;
};

export type PubSubOptions = {
  /** redis:// URL; null keeps everything in this process. */
  redisUrl: string | null;
  logger: Logger;
};

/**
 * In-process pubsub, or, with a Redis URL, one whose events also reach every other instance through
 * Yoga's Redis event target (one client publishes, one subscribes). Subscribers of this instance are
 * always served directly, so they keep receiving while Redis is down; a failed publish is logged, never
 * thrown at the publisher (a webhook must still be acknowledged), and ioredis reconnects and resubscribes
 * on its own once Redis is back.
 */
export function createPubSub(options: PubSubOptions): GatewayPubSub {
  if (!options.redisUrl) {
    const eventTarget = unboundedEventTarget();
    return Object.assign(createYogaPubSub<Topics>({ eventTarget }), {
      kind: "memory" as const,
      ping: async () => {},
      listen: listenOn(eventTarget as PubSubEventTarget<Topics>),
      subscribeWhere: subscribeWhereOn(eventTarget as PubSubEventTarget<Topics>),
      close: async () => {},
    });
  }
  const log = options.logger.child({ component: "pubsub" });
  // Publishing fails fast while disconnected instead of queueing without bound; subscribing waits.
  const publisher = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const subscriber = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  watchConnection(publisher, log, "publisher");
  watchConnection(subscriber, log, "subscriber");
  let publishFailures = 0;
  // The event target calls publish() without handling its promise: catch here, or a Redis outage
  // would become an unhandled rejection in whichever code path published.
  const publishClient = {
    publish: (channel: string, message: string) =>
      publisher.publish(channel, message).catch((error: unknown) => {
        if (publishFailures++ % 100 === 0) {
          log.warn({ err: error, channel, failures: publishFailures }, "could not publish to Redis");
        }
        return 0;
      }),
  } as unknown as Redis;
  const remote = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient: subscriber });
  const eventTarget = createSharedEventTarget(remote, randomUUID());
  const pubsub = createYogaPubSub<Topics>({ eventTarget });
  return Object.assign(pubsub, {
    kind: "redis" as const,
    ping: async () => {
      await publisher.ping();
    },
    listen: listenOn(eventTarget),
    subscribeWhere: subscribeWhereOn(eventTarget),
    close: async () => {
      await Promise.all([publisher, subscriber].map((client) => closeClient(client)));
    },
  });
}

/** GatewayPubSub.listen over the event target Yoga's pubsub dispatches to (topics without an id). */
function listenOn(target: PubSubEventTarget<Topics>): GatewayPubSub["listen"] {
  return (topic, listener) => {
    const onEvent = (event: CustomEvent) => listener(event.detail);
    target.addEventListener(topic, onEvent as never);
    return () => target.removeEventListener(topic, onEvent as never);
  };
}

/** As many pushes as a Repeater lets wait before it refuses more. */
const MAX_PENDING = 1024;

/** GatewayPubSub.subscribeWhere over the event target Yoga's pubsub dispatches to. */
function subscribeWhereOn(target: PubSubEventTarget<Topics>): GatewayPubSub["subscribeWhere"] {
  return <T extends keyof Topics & string>(topic: T, where: (payload: Topics[T][0]) => boolean) => {
    type Payload = Topics[T][0];
    type Step = IteratorResult<Payload, undefined>;
    const queue: Payload[] = [];
    let waiting: ((step: Step) => void) | null = null;
    let failure: Error | null = null;
    let state: "idle" | "listening" | "done" = "idle";
    const onEvent = (event: CustomEvent) => {
      const payload = event.detail as Payload;
      if (!where(payload)) return;
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ done: false, value: payload });
      } else if (queue.length < MAX_PENDING) {
        queue.push(payload);
      } else {
        failure = new Error(`a subscriber of ${topic} fell ${MAX_PENDING} events behind`);
        stop();
      }
    };
    const stop = () => {
      if (state === "listening") target.removeEventListener(topic, onEvent as never);
      state = "done";
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ done: true, value: undefined });
      }
    };
    const iterator: AsyncIterableIterator<Payload> = {
      [Symbol.asyncIterator]: () => iterator,
      next: () => {
        if (state === "idle") {
          state = "listening";
          target.addEventListener(topic, onEvent as never);
        }
        if (queue.length > 0) return Promise.resolve({ done: false, value: queue.shift()! });
        if (failure) {
          const error = failure;
          failure = null;
          return Promise.reject(error);
        }
        if (state === "done") return Promise.resolve({ done: true, value: undefined });
        return new Promise<Step>((resolve) => {
          waiting = resolve;
        });
      },
      return: () => {
        queue.length = 0;
        failure = null;
        stop();
        return Promise.resolve({ done: true, value: undefined });
      },
      throw: (error: unknown) => {
        queue.length = 0;
        stop();
        return Promise.reject(error);
      },
    };
    return iterator;
  };
}

type Envelope = { origin: string; detail: unknown };
type Listener = TypedEventListenerOrEventListenerObject<CustomEvent>;

/**
 * Delivers each event to this instance's listeners at once and sends it, tagged with this instance's id,
 * through Redis to the others; what comes back from Redis with our own tag is dropped.
 */
function createSharedEventTarget(remote: EventTarget, origin: string): PubSubEventTarget<Topics> {
  const local = unboundedEventTarget();
  // One relay per (type, listener), so removeEventListener finds what addEventListener registered.
  const relays = new Map<string, Map<Listener, (event: Event) => void>>();
  const call = (listener: Listener, event: CustomEvent) =>
    typeof listener === "function" ? listener(event) : listener.handleEvent(event);
  return {
    addEventListener(type: string, listener: Listener | null) {
      if (!listener) return;
      const ofType = relays.get(type) ?? new Map<Listener, (event: Event) => void>();
      relays.set(type, ofType);
      if (ofType.has(listener)) return;
      const relay = (event: Event) => {
        const envelope = (event as CustomEvent<Envelope>).detail;
        if (!envelope || envelope.origin === origin) return;
        call(listener, new CustomEvent(type, { detail: envelope.detail }));
      };
      ofType.set(listener, relay);
      local.addEventListener(type, listener as EventListener);
      remote.addEventListener(type, relay);
    },
    removeEventListener(type: string, listener: Listener | null) {
      if (!listener) return;
      local.removeEventListener(type, listener as EventListener);
      const ofType = relays.get(type);
      const relay = ofType?.get(listener);
      if (!ofType || !relay) return;
      remote.removeEventListener(type, relay);
      ofType.delete(listener);
      if (ofType.size === 0) relays.delete(type);
    },
    dispatchEvent(event: CustomEvent) {
      local.dispatchEvent(new CustomEvent(event.type, { detail: event.detail }));
      remote.dispatchEvent(
        new CustomEvent(event.type, { detail: { origin, detail: event.detail } satisfies Envelope }),
      );
      return true;
    },
  } as PubSubEventTarget<Topics>;
}

/** One listener per live subscription: hundreds on a topic are normal, not a leak to warn about. */
function unboundedEventTarget(): EventTarget {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return target;
}

/** Logs state changes once each, not every reconnect attempt. */
function watchConnection(client: Redis, log: Logger, role: string) {
  let up = false;
  let reported = false;
  client.on("ready", () => {
    up = true;
    reported = false;
    log.info({ role }, "Redis connected");
  });
  client.on("error", (error: Error) => {
    if (reported) return;
    reported = true;
    log.warn(
      { role, err: error },
      up ? "Redis connection lost; reconnecting" : "Redis unreachable; retrying",
    );
    up = false;
  });
}

async function closeClient(client: Redis) {
  if (client.status === "ready") {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
}
