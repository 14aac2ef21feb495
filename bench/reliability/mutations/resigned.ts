// Mutated bodies signed with the org's own secret: what a compromised or buggy sender with the right key
// could send. They pass the signature check and reach the event parser and the applier, which must answer
// 2xx or 400 — never 5xx, which Stripe would retry for days.
import * as fc from "fast-check";
import { APPLIED_EVENT_TYPES, CONNECTION_EVENT_TYPES } from "../../../src/stripe/resources.ts";
import { v1Signature } from "../webhook-signing.ts";
import { BODY_CHANGES } from "./body.ts";
import { type Base, delivery, type Mutated, mutator } from "./types.ts";

const resign = (base: Base, body: Buffer): Mutated =>
  delivery(base, `t=${base.t},v1=${v1Signature(body, base.secret, base.t)}`, body);

const FIELDS = [
  "id",
  "object",
  "type",
  "created",
  "livemode",
  "account",
  "api_version",
  "pending_webhooks",
  "request",
  "data",
  "data.object",
  "data.object.id",
  "data.object.object",
  "data.object.amount",
  "data.object.currency",
  "data.object.status",
  "data.object.created",
  "data.object.arrival_date",
  "data.object.metadata",
  "data.previous_attributes",
] as const;

/** Values of every JSON type, and the edges of each. */
const ODD_VALUES = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    "",
    0,
    -1,
    1.5,
    2 ** 53,
    2 ** 64,
    -1e308,
    true,
    false,
    [],
    {},
    "2026-01-01T00:00:00Z",
  ),
  fc.constantFrom<unknown>(
    "x".repeat(300),
    "😀\u0000\u202e",
    { id: 5 },
    [1, [2, [3]]],
    "acct_unknown",
    "po_other",
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

function setPath(target: Record<string, unknown>, path: string, value: unknown, remove: boolean) {
  const keys = path.split(".");
  let node: unknown = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return;
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node !== "object" || node === null) return;
  const last = keys.at(-1)!;
  if (remove) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
}

// A deauthorization disconnects the org's connection by design, and every later delivery would be ignored.
const TYPES = APPLIED_EVENT_TYPES.filter(
  (type) => !(CONNECTION_EVENT_TYPES as readonly string[]).includes(type),
);

export const resignedMutators = [
  ...BODY_CHANGES.map((change) =>
    mutator({
      family: `re-signed body: ${change.family}`,
      class: "resigned",
      params: change.params,
      apply: (base, p) => resign(base, change.change(base.body, base, p)),
    }),
  ),
  mutator({
    family: "re-signed: a field replaced",
    class: "resigned",
    params: fc.record({ field: fc.constantFrom(...FIELDS), value: ODD_VALUES }),
    apply: (base, p: { field: string; value: unknown }) => {
      const event = JSON.parse(base.body.toString("utf8")) as Record<string, unknown>;
      setPath(event, p.field, p.value, false);
      return resign(base, Buffer.from(JSON.stringify(event)));
    },
  }),
  mutator({
    family: "re-signed: a field removed",
    class: "resigned",
    params: fc.constantFrom(...FIELDS),
    apply: (base, field: string) => {
      const event = JSON.parse(base.body.toString("utf8")) as Record<string, unknown>;
      setPath(event, field, undefined, true);
      return resign(base, Buffer.from(JSON.stringify(event)));
    },
  }),
  mutator({
    family: "re-signed: another event type around a payout",
    class: "resigned",
    params: fc.oneof(fc.constantFrom(...TYPES), fc.string({ maxLength: 40 })),
    apply: (base, type: string) => {
      const event = JSON.parse(base.body.toString("utf8")) as Record<string, unknown>;
      event.type = type;
      return resign(base, Buffer.from(JSON.stringify(event)));
    },
  }),
];

export { TYPES as RESIGNED_EVENT_TYPES };
