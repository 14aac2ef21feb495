// Stripe's webhook signature scheme (v1: HMAC-SHA256 over the raw body), checked without the SDK.
import { createHmac, timingSafeEqual } from "node:crypto";

/** Stripe's libraries default to five minutes; we also refuse timestamps that far in the future. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Why a signature is refused. */
export type SignatureProblem =
  | "MISSING_SIGNATURE"
  | "MALFORMED_SIGNATURE"
  | "NO_MATCH"
  | "TIMESTAMP_OUT_OF_TOLERANCE";

export type SignatureVerdict = { ok: true; timestamp: number } | { ok: false; reason: SignatureProblem };

export type VerifyOptions = {
  /** Current time in unix seconds. */
  nowSeconds: number;
  toleranceSeconds?: number;
};

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Checks a `Stripe-Signature` header (`t=…,v1=…[,v1=…][,v0=…]`) against the raw request bytes: HMAC-SHA256
 * of `${t}.${body}` keyed with the whole `whsec_…` secret, compared in constant time with every `v1`
 * (one per active secret while a secret is rolled). Every other scheme is ignored, so a test-mode `v0`
 * cannot downgrade the check. Parsing follows stripe-node exactly (no trimming), so the verdicts match.
 */
export function verifyStripeSignature(
  rawBody: Uint8Array | string,
  header: string | null | undefined,
  secret: string,
  options: VerifyOptions,
): SignatureVerdict {
  if (!header) return { ok: false, reason: "MISSING_SIGNATURE" };
  let timestamp = Number.NaN;
  const signatures: string[] = [];
  for (const item of header.split(",")) {
    const [key, value = ""] = item.split("=");
    if (key === "t") timestamp = /^\d{1,12}$/.test(value) ? Number(value) : Number.NaN;
    else if (key === "v1") signatures.push(value);
  }
  if (!Number.isSafeInteger(timestamp) || signatures.length === 0) {
    return { ok: false, reason: "MALFORMED_SIGNATURE" };
  }
  const expected = createHmac("sha256", secret).update(`${timestamp}.`, "utf8").update(rawBody).digest();
  // Every candidate is compared (no early exit), each only after its length and form are checked.
  let matched = false;
  for (const signature of signatures) {
    if (!HEX_SHA256.test(signature)) continue;
    const given = Buffer.from(signature, "hex");
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) return { ok: false, reason: "NO_MATCH" };
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(options.nowSeconds - timestamp) > tolerance) {
    return { ok: false, reason: "TIMESTAMP_OUT_OF_TOLERANCE" };
  }
  return { ok: true, timestamp };
}
