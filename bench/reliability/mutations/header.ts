// Mutations of the Stripe-Signature header: its t= and v1= dropped, altered, repeated, reordered, in the
// wrong scheme, padded with whitespace or grown huge; signatures made with the wrong secret, over other
// bytes or another timestamp; stale and future timestamps validly signed; other orgs' paths.
import * as fc from "fast-check";
import { v1Signature } from "../webhook-signing.ts";
import { type Base, delivery, mutator, validHeader } from "./types.ts";

const HEX = "0123456789abcdef";
const hexString = (length: number) =>
  fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length });
const changeHexAt = (hex: string, index: number) =>
  `${hex.slice(0, index)}${HEX[(HEX.indexOf(hex[index]!) + 1) % 16]}${hex.slice(index + 1)}`;

const V1_CHANGES = ["flip", "truncate", "extend", "uppercase", "non-hex", "empty"] as const;

export const headerMutators = [
  mutator({
    family: "signature header missing",
    class: "forged",
    params: fc.constant(null),
    apply: (base) => delivery(base, undefined),
  }),
  mutator({
    family: "signature header empty or blank",
    class: "forged",
    params: fc.constantFrom("", " ", ",", "=", "t=,v1="),
    apply: (base, value: string) => delivery(base, value),
  }),
  mutator({
    family: "t= dropped",
    class: "forged",
    params: fc.boolean(),
    apply: (base, twice: boolean) => delivery(base, twice ? `v1=${base.v1},v1=${base.v1}` : `v1=${base.v1}`),
  }),
  mutator({
    family: "v1= dropped",
    class: "forged",
    params: fc.constantFrom("none", "v0 only", "empty v1"),
    apply: (base, kind: string) =>
      delivery(
        base,
        kind === "none"
          ? `t=${base.t}`
          : kind === "v0 only"
            ? `t=${base.t},v0=${base.v1}`
            : `t=${base.t},v1=`,
      ),
  }),
  mutator({
    family: "t= shifted (signature unchanged)",
    class: "forged",
    params: fc
      .oneof(fc.integer({ min: -300, max: 300 }), fc.integer({ min: -2e9, max: 2e9 }))
      .filter((d) => d !== 0),
    apply: (base, delta: number) => delivery(base, `t=${base.t + delta},v1=${base.v1}`),
  }),
  mutator({
    family: "t= not a timestamp",
    class: "forged",
    params: fc.oneof(
      fc.constantFrom("", "abc", "1e9", "-1", "1.5", "0x10", "NaN", "Infinity", "9999999999999", "-0"),
      fc.string({ unit: "binary-ascii", maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]|,/g, "x")),
    ),
    apply: (base, value: string) => delivery(base, `t=${value},v1=${base.v1}`),
  }),
  mutator({
    family: "t= with a suffix or spaces",
    class: "forged",
    params: fc.constantFrom("abc", " ", "0", ".0", "e0"),
    apply: (base, suffix: string) => delivery(base, `t=${base.t}${suffix},v1=${base.v1}`),
  }),
  mutator({
    family: "t= with leading zeros (same number)",
    class: "equivalent",
    params: fc.integer({ min: 1, max: 3 }),
    apply: (base, zeros: number) => delivery(base, `t=${"0".repeat(zeros)}${base.t},v1=${base.v1}`),
  }),
  mutator({
    family: "v1= altered",
    class: "forged",
    params: fc.record({
      change: fc.constantFrom(...V1_CHANGES),
      at: fc.integer({ min: 0, max: 63 }),
      extra: hexString(8),
    }),
    apply: (base, p: { change: (typeof V1_CHANGES)[number]; at: number; extra: string }) => {
      const v1 = {
        flip: changeHexAt(base.v1, p.at),
        truncate: base.v1.slice(0, p.at),
        extend: `${base.v1}${p.extra}`,
        uppercase: base.v1.toUpperCase(),
        "non-hex": `${base.v1.slice(0, p.at)}g${base.v1.slice(p.at + 1)}`,
        empty: "",
      }[p.change];
      return delivery(base, `t=${base.t},v1=${v1}`);
    },
  }),
  mutator({
    family: "v1= random hex",
    class: "forged",
    params: hexString(64),
    apply: (base, v1: string) => delivery(base, `t=${base.t},v1=${v1}`),
  }),
  mutator({
    family: "v1= made with another secret",
    class: "forged",
    params: fc.oneof(
      fc.constant("other org"),
      fc.constant("whsec_ prefix dropped"),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => `whsec_${s}`),
    ),
    apply: (base, secret: string) => {
      const key =
        secret === "other org"
          ? base.otherSecret
          : secret === "whsec_ prefix dropped"
            ? base.secret.slice(6)
            : secret;
      return delivery(base, `t=${base.t},v1=${v1Signature(base.body, key, base.t)}`);
    },
  }),
  mutator({
    family: "v1= over other bytes or another t",
    class: "forged",
    params: fc.record({
      kind: fc.constantFrom("other body", "other t", "body without t", "empty body"),
      delta: fc.integer({ min: 1, max: 1000 }),
    }),
    apply: (base, p: { kind: string; delta: number }) => {
      const v1 =
        p.kind === "other body"
          ? v1Signature(Buffer.concat([base.body, Buffer.from(" ")]), base.secret, base.t)
          : p.kind === "other t"
            ? v1Signature(base.body, base.secret, base.t + p.delta)
            : p.kind === "empty body"
              ? v1Signature("", base.secret, base.t)
              : v1Signature(base.body, base.secret, Number.NaN);
      return delivery(base, `t=${base.t},v1=${v1}`);
    },
  }),
  mutator({
    family: "wrong scheme",
    class: "forged",
    params: fc.constantFrom("v0", "V1", "v2", "v1 ", " v1", "sha256", "v", "v1v1", "s1"),
    apply: (base, scheme: string) => delivery(base, `t=${base.t},${scheme}=${base.v1}`),
  }),
  mutator({
    family: "stale timestamp, validly signed",
    class: "forged",
    params: fc.integer({ min: 301, max: 40_000_000 }),
    apply: (base, age: number) =>
      delivery(base, `t=${base.t - age},v1=${v1Signature(base.body, base.secret, base.t - age)}`),
  }),
  mutator({
    family: "future timestamp, validly signed",
    class: "forged",
    params: fc.integer({ min: 301, max: 40_000_000 }),
    apply: (base, ahead: number) =>
      delivery(base, `t=${base.t + ahead},v1=${v1Signature(base.body, base.secret, base.t + ahead)}`),
  }),
  mutator({
    family: "valid t and v1, reordered or repeated",
    class: "equivalent",
    params: fc.record({ variant: fc.integer({ min: 0, max: 5 }), other: hexString(64) }),
    apply: (base, p: { variant: number; other: string }) => {
      const { t, v1 } = base;
      const header = [
        `v1=${v1},t=${t}`,
        `t=${t},v1=${v1},v1=${v1}`,
        `t=${t},t=${t},v1=${v1}`,
        `t=${t},v1=${p.other},v1=${v1}`,
        `t=${t},v0=${p.other},v1=${v1},foo=bar`,
        `t=${t},v1=${v1},v0=${v1}`,
      ][p.variant]!;
      return delivery(base, header);
    },
  }),
  mutator({
    family: "whitespace around t and v1",
    class: "equivalent",
    params: fc.record({ space: fc.constantFrom(" ", "\t", "  "), where: fc.integer({ min: 0, max: 3 }) }),
    apply: (base, p: { space: string; where: number }) => {
      const { t, v1 } = base;
      const s = p.space;
      return delivery(
        base,
        [`t=${t},${s}v1=${v1}`, `${s}t=${t},v1=${v1}`, `t=${t},v1=${v1}${s}`, `t${s}=${t},v1=${v1}`][
          p.where
        ]!,
      );
    },
  }),
  mutator({
    family: "huge header without the valid v1",
    class: "forged",
    params: fc.integer({ min: 20, max: 600 }),
    apply: (base, entries: number) =>
      delivery(
        base,
        [
          `t=${base.t}`,
          ...Array.from({ length: entries }, (_, i) => `v1=${changeHexAt(base.v1, i % 64)}`),
        ].join(","),
      ),
  }),
  mutator({
    family: "huge header with the valid v1 last",
    class: "equivalent",
    params: fc.integer({ min: 20, max: 600 }),
    apply: (base, entries: number) =>
      delivery(
        base,
        [
          `t=${base.t}`,
          ...Array.from({ length: entries }, (_, i) => `v1=${changeHexAt(base.v1, i % 64)}`),
          `v1=${base.v1}`,
        ].join(","),
      ),
  }),
  mutator({
    family: "two Stripe-Signature headers, neither valid",
    class: "forged",
    params: fc.tuple(hexString(64), hexString(64)),
    apply: (base, [one, two]: [string, string]) =>
      delivery(base, [`t=${base.t},v1=${one}`, `t=${base.t},v1=${two}`]),
  }),
  mutator({
    family: "two Stripe-Signature headers, one valid",
    class: "equivalent",
    params: hexString(64),
    apply: (base, other: string) => delivery(base, [`t=${base.t},v1=${other}`, validHeader(base)]),
  }),
  mutator({
    family: "sent to another org's webhook path",
    class: "forged",
    params: fc.constant(null),
    apply: (base) => ({ ...delivery(base, validHeader(base)), path: base.otherOrgPath }),
  }),
  mutator({
    family: "sent to an unknown org's path",
    class: "forged",
    params: fc.constantFrom("org_doesnotexist", "..", "%00", "x".repeat(300), "org_1%2F..%2F"),
    apply: (base, org: string) => ({ ...delivery(base, validHeader(base)), path: `/stripe/webhooks/${org}` }),
  }),
  mutator({
    family: "signed for another account's event by another org",
    class: "forged",
    params: fc.constant(null),
    apply: (base) => {
      const body = Buffer.from(base.body.toString("utf8").replaceAll(base.account, base.otherAccount));
      return delivery(base, `t=${base.t},v1=${v1Signature(body, base.otherSecret, base.t)}`, body);
    },
  }),
];

export type { Base };
