// Changes to a delivery's bytes: bit flips, truncation, insertion, deletion, JSON-breaking and
// JSON-preserving edits, replacement, oversized bodies. Sent with the original signature they are
// forgeries; re-signed (resigned.ts) they reach the parser and the applier.

import type { Arbitrary } from "fast-check";
import * as fc from "fast-check";
import { type Base, delivery, mutator, validHeader } from "./types.ts";

export type BodyChange<P = unknown> = {
  family: string;
  params: Arbitrary<P>;
  change(body: Buffer, base: Base, params: P): Buffer;
};

const bodyChange = <P>(change: BodyChange<P>) => change as unknown as BodyChange;
const position = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const text = (body: Buffer) => body.toString("utf8");
const json = (body: Buffer) => JSON.parse(text(body)) as Record<string, unknown>;

const JSON_BREAKS = [
  (s: string) => s.slice(0, -1),
  (s: string) => `${s.slice(0, -1)},}`,
  (s: string) => s.replace('"id"', "'id'"),
  (s: string) => s.replace(":", "::"),
  (s: string) => `${s}}`,
  (s: string) => s.replace(/"([a-z_]+)":/, "$1:"),
  (s: string) => s.replace('"', ""),
] as const;

const JSON_PRESERVING = [
  (body: Buffer) => Buffer.from(JSON.stringify(json(body), null, 2)),
  (body: Buffer) => Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(json(body)).reverse()))),
  (body: Buffer) => Buffer.from(`${text(body)}\n`),
  (body: Buffer) => Buffer.from(` \r\n${text(body)}`),
  (body: Buffer) => Buffer.from(text(body).replace('"payout"', '"\\u0070ayout"')),
  (body: Buffer) => Buffer.from(text(body).replace(/}$/, ',"id":"evt_replaced"}')),
  (body: Buffer) =>
    Buffer.from(text(body).replace(/"amount":(\d+)/, (_, n: string) => `"amount":${Number(n) + 1}`)),
  (body: Buffer) => Buffer.from(text(body).replace('"livemode":false', '"livemode":true')),
  (body: Buffer) => Buffer.from(text(body).replace('"payout.updated"', '"payout.paid"')),
  (body: Buffer) => Buffer.from(text(body).replace('"status":"paid"', '"status":"failed"')),
  (body: Buffer) => Buffer.from(text(body).replace(/"amount":(\d+)/, '"amount":$1.0')),
] as const;

export const BODY_CHANGES = [
  bodyChange({
    family: "bit flips",
    params: fc.array(fc.record({ at: position, bit: fc.integer({ min: 0, max: 7 }) }), {
      minLength: 1,
      maxLength: 8,
    }),
    change: (body, _base, flips: { at: number; bit: number }[]) => {
      const copy = Buffer.from(body);
      for (const { at, bit } of flips) copy[at % copy.length]! ^= 1 << bit;
      return copy;
    },
  }),
  bodyChange({
    family: "truncated",
    params: position,
    change: (body, _base, at: number) => body.subarray(0, at % body.length),
  }),
  bodyChange({
    family: "bytes inserted",
    params: fc.record({ at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    change: (body, _base, p: { at: number; bytes: Uint8Array }) => {
      const at = p.at % (body.length + 1);
      return Buffer.concat([body.subarray(0, at), p.bytes, body.subarray(at)]);
    },
  }),
  bodyChange({
    family: "bytes deleted",
    params: fc.record({ at: position, length: fc.integer({ min: 1, max: 32 }) }),
    change: (body, _base, p: { at: number; length: number }) => {
      const at = p.at % body.length;
      return Buffer.concat([body.subarray(0, at), body.subarray(at + p.length)]);
    },
  }),
  bodyChange({
    family: "JSON broken",
    params: fc.integer({ min: 0, max: JSON_BREAKS.length + 3 }),
    change: (body, _base, variant: number) => {
      if (variant < JSON_BREAKS.length) return Buffer.from(JSON_BREAKS[variant]!(text(body)));
      const extras = [
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]),
        Buffer.concat([body, Buffer.from([0])]),
        Buffer.concat([body.subarray(0, 20), Buffer.from([0xff, 0xc3]), body.subarray(20)]),
        Buffer.from(`[${text(body)}]`),
      ];
      return extras[variant - JSON_BREAKS.length]!;
    },
  }),
  bodyChange({
    family: "JSON kept, bytes changed",
    params: fc.integer({ min: 0, max: JSON_PRESERVING.length - 1 }),
    change: (body, _base, variant: number) => JSON_PRESERVING[variant]!(body),
  }),
  bodyChange({
    family: "another account in the body",
    params: fc.constant(null),
    change: (body, base) => Buffer.from(text(body).replaceAll(base.account, base.otherAccount)),
  }),
  bodyChange({
    family: "body replaced",
    params: fc.oneof(
      fc.constantFrom(
        "",
        "null",
        "{}",
        "[]",
        "true",
        "0",
        '"event"',
        "a=b&c=d",
        '{"object":"v2.core.event"}',
      ),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
    ),
    change: (_body, _base, value: string) => Buffer.from(value, "latin1"),
  }),
  bodyChange({
    family: "deeply nested JSON",
    params: fc.integer({ min: 1_000, max: 100_000 }),
    change: (body, _base, depth: number) =>
      Buffer.from(text(body).replace(/}$/, `,"deep":${"[".repeat(depth)}${"]".repeat(depth)}}`)),
  }),
];

export const bodyMutators = [
  ...BODY_CHANGES.map((change) =>
    mutator({
      family: `body: ${change.family}`,
      class: "forged",
      params: change.params,
      apply: (base, p) => delivery(base, validHeader(base), change.change(base.body, base, p)),
    }),
  ),
  mutator({
    family: "body over 1 MB",
    class: "forged",
    params: fc.integer({ min: 1, max: 256 * 1024 }),
    apply: (base, extra: number) =>
      delivery(base, validHeader(base), Buffer.concat([base.body, Buffer.alloc(1024 * 1024 + extra, 0x20)])),
  }),
  mutator({
    family: "body padded to hundreds of KB (valid JSON)",
    class: "forged",
    params: fc.integer({ min: 100, max: 900 }),
    apply: (base, kb: number) =>
      delivery(
        base,
        validHeader(base),
        Buffer.from(base.body.toString("utf8").replace(/}$/, `,"pad":"${"x".repeat(kb * 1024)}"}`)),
      ),
  }),
];
