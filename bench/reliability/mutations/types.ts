import type { OutgoingHttpHeaders } from "node:http";
import type { Arbitrary } from "fast-check";

/**
 * What a mutation changed, so what the gateway may do with it:
 * - forged: the signed bytes (body, timestamp), the signature, the secret or the org → must never verify;
 * - equivalent: the header still carries the valid t and v1 (reordered, repeated, padded) → may verify;
 * - transport: body and signature intact, only how they travel (content type, chunking) → should verify;
 * - replay: the same delivery twice → the second is a duplicate;
 * - resigned: a mutated body validly signed → the parser and the applier see it: 2xx or 400, never 5xx;
 * - framing: broken HTTP framing over a raw socket (lengths, chunks) → refused by HTTP, never 5xx.
 */
export type MutationClass = "forged" | "equivalent" | "transport" | "replay" | "resigned" | "framing";

/** A valid delivery and what mutations need around it. */
export type Base = {
  body: Buffer;
  t: number;
  v1: string;
  secret: string;
  /** Another org's signing secret, and that org's webhook path */
  otherSecret: string;
  otherOrgPath: string;
  path: string;
  account: string;
  /** A connected account of another org */
  otherAccount: string;
};

export type Mutated = { path?: string; headers: OutgoingHttpHeaders; body: Buffer; chunked?: boolean };

export type Mutator<P = unknown> = {
  family: string;
  class: MutationClass;
  params: Arbitrary<P>;
  apply(base: Base, params: P): Mutated;
};

/** Keeps the mutator's own parameter type while it is written; the catalogue holds them erased. */
export const mutator = <P>(m: Mutator<P>) => m as unknown as Mutator;

export const validHeader = (base: Base) => `t=${base.t},v1=${base.v1}`;

/** The delivery as Stripe sends it, with `signature` as its Stripe-Signature (undefined: none). */
export function delivery(base: Base, signature: string | string[] | undefined, body = base.body): Mutated {
  return {
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...(signature === undefined ? {} : { "stripe-signature": signature }),
    },
    body,
  };
}
