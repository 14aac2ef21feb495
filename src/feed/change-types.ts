// Every type a change can have, from the registry: what endpoints and subscribers may select, and what the
// docs list. A pattern is an exact type, "<object>.*" (every change of one object) or "*".
import { RESOURCES, SINGLETONS } from "../stripe/resources.ts";

/** A connection's lifecycle steps, in the order a healthy connection meets the first ones. */
export const CONNECTION_CHANGE_TYPES = [
  "connection.connected",
  "connection.ready",
  "connection.syncing",
  "connection.unhealthy",
  "connection.recovered",
  "connection.needs_reauth",
  "connection.disconnected",
] as const;

export type ConnectionChangeType = (typeof CONNECTION_CHANGE_TYPES)[number];

const OBJECT_KINDS = ["created", "updated", "deleted"] as const;

/** The objects whose changes the log holds: each resource's Stripe object, then the singletons. */
const CHANGED_OBJECTS: readonly string[] = [
  ...RESOURCES.map((resource) => resource.object),
  ...SINGLETONS.map((singleton) => singleton.key),
];

/** Every change type, objects first. */
export const CHANGE_TYPES: readonly string[] = [
  ...CHANGED_OBJECTS.flatMap((object) => OBJECT_KINDS.map((kind) => `${object}.${kind}`)),
  ...CONNECTION_CHANGE_TYPES,
];

/** The type of a test delivery (sendTestWebhook): no change of the log. */
export const TEST_PING_TYPE = "test.ping";

/** Whether `pattern` names a change type, one object's types ("payout.*") or every type ("*"). */
export function isChangeTypePattern(pattern: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) {
    const object = pattern.slice(0, -2);
    return object === "connection" || CHANGED_OBJECTS.includes(object);
  }
  return CHANGE_TYPES.includes(pattern);
}
