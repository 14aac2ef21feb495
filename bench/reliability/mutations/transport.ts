// How a valid delivery travels, with its bytes and signature intact: other content types, chunked
// transfer instead of Content-Length, the header name's case, many unrelated headers, a replay.
import * as fc from "fast-check";
import { delivery, mutator, validHeader } from "./types.ts";

const CONTENT_TYPES = [
  null,
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=latin1",
  "application/octet-stream",
  "application/json, text/html",
  `application/json; ${"x".repeat(2000)}`,
] as const;

export const transportMutators = [
  mutator({
    family: "content type changed or missing",
    class: "transport",
    params: fc.constantFrom(...CONTENT_TYPES),
    apply: (base, type: string | null) => {
      const sent = delivery(base, validHeader(base));
      if (type === null) delete sent.headers["content-type"];
      else sent.headers["content-type"] = type;
      return sent;
    },
  }),
  mutator({
    family: "chunked, no Content-Length",
    class: "transport",
    params: fc.constant(null),
    apply: (base) => ({ ...delivery(base, validHeader(base)), chunked: true }),
  }),
  mutator({
    family: "header name in other case",
    class: "transport",
    params: fc.constantFrom("STRIPE-SIGNATURE", "Stripe-Signature", "sTrIpE-sIgNaTuRe"),
    apply: (base, name: string) => ({
      headers: { "content-type": "application/json", [name]: validHeader(base) },
      body: base.body,
    }),
  }),
  mutator({
    family: "many unrelated headers",
    class: "transport",
    params: fc.array(fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }), {
      minLength: 1,
      maxLength: 60,
    }),
    apply: (base, values: string[]) => {
      const sent = delivery(base, validHeader(base));
      values.forEach((value, i) => {
        sent.headers[`x-fuzz-${i}`] = value.replace(/[^\x20-\x7e]/g, "_");
      });
      return sent;
    },
  }),
  mutator({
    family: "replayed as is (second delivery)",
    class: "replay",
    params: fc.constant(null),
    apply: (base) => delivery(base, validHeader(base)),
  }),
];
