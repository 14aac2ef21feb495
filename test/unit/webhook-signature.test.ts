import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { verifyStripeSignature } from "../../src/stripe/webhook-signature.ts";

const stripe = new Stripe("sk_test_unused", { telemetry: false });
const SECRET = "whsec_test_secret_0123456789abcdef";
const NOW = 1_760_000_000;
const payload = JSON.stringify({ id: "evt_1", object: "event", type: "payout.paid" }, null, 2);

const header = (options: { secret?: string; timestamp?: number; scheme?: string; body?: string } = {}) =>
  stripe.webhooks.generateTestHeaderString({
    payload: options.body ?? payload,
    secret: options.secret ?? SECRET,
    timestamp: options.timestamp ?? NOW,
    ...(options.scheme ? { scheme: options.scheme } : {}),
  });

/** stripe-node's verdict, with the same clock. */
function stripeAccepts(body: string, signature: string, secret = SECRET): boolean {
  try {
    stripe.webhooks.constructEvent(body, signature, secret, 300, undefined, NOW * 1000);
    return true;
  } catch {
    return false;
  }
}

const ours = (body: string, signature: string | null, secret = SECRET) =>
  verifyStripeSignature(Buffer.from(body), signature, secret, { nowSeconds: NOW });

describe("verifyStripeSignature, case by case against stripe-node", () => {
  const v1 = (h: string) => h.split(",")[1]!;
  const cases: { name: string; body: string; header: string; secret?: string }[] = [
    { name: "a valid signature", body: payload, header: header() },
    {
      name: "several v1 (secret rolling), one valid",
      body: payload,
      header: `${header({ secret: "whsec_old" })},${v1(header())}`,
    },
    {
      name: "several v1, the valid one first",
      body: payload,
      header: `${header()},${v1(header({ secret: "whsec_old" }))}`,
    },
    { name: "only v0", body: payload, header: header({ scheme: "v0" }) },
    {
      name: "a valid v0 beside a wrong v1",
      body: payload,
      header: `${header({ secret: "whsec_x" })},v0=${v1(header()).slice(3)}`,
    },
    { name: "the wrong secret", body: payload, header: header({ secret: "whsec_other" }) },
    { name: "the secret with a trailing newline", body: payload, header: header(), secret: `${SECRET}\n` },
    { name: "spaces after the commas", body: payload, header: header().replace(",", ", ") },
    { name: "a tampered body", body: payload.replace("payout.paid", "payout.failed"), header: header() },
    { name: "a re-serialized body", body: JSON.stringify(JSON.parse(payload)), header: header() },
    { name: "a body with trailing whitespace", body: `${payload}\n`, header: header() },
    { name: "300 s old (the edge)", body: payload, header: header({ timestamp: NOW - 300 }) },
    { name: "301 s old", body: payload, header: header({ timestamp: NOW - 301 }) },
    { name: "no timestamp", body: payload, header: v1(header()) },
    { name: "garbage", body: payload, header: "not a signature" },
    { name: "an empty v1", body: payload, header: `t=${NOW},v1=` },
    { name: "a short v1", body: payload, header: `t=${NOW},v1=abcd` },
    {
      name: "an upper-case v1",
      body: payload,
      header: `t=${NOW},${v1(header()).toUpperCase().replace("V1", "v1")}`,
    },
  ];
  for (const { name, body, header: h, secret } of cases) {
    it(`${name}: same verdict as stripe-node`, () => {
      const expected = stripeAccepts(body, h, secret);
      expect(ours(body, h, secret).ok).toBe(expected);
    });
  }

  it("accepts the valid cases and names why it refuses the others", () => {
    expect(ours(payload, header())).toEqual({ ok: true, timestamp: NOW });
    expect(ours(payload, null)).toEqual({ ok: false, reason: "MISSING_SIGNATURE" });
    expect(ours(payload, "")).toEqual({ ok: false, reason: "MISSING_SIGNATURE" });
    expect(ours(payload, header({ scheme: "v0" }))).toEqual({ ok: false, reason: "MALFORMED_SIGNATURE" });
    expect(ours(payload, header({ secret: "whsec_other" }))).toEqual({ ok: false, reason: "NO_MATCH" });
    expect(ours(payload, header({ timestamp: NOW - 301 }))).toEqual({
      ok: false,
      reason: "TIMESTAMP_OUT_OF_TOLERANCE",
    });
  });

  it("also refuses timestamps more than 300 s in the future, which stripe-node lets through", () => {
    const future = header({ timestamp: NOW + 301 });
    expect(stripeAccepts(payload, future)).toBe(true);
    expect(ours(payload, future)).toEqual({ ok: false, reason: "TIMESTAMP_OUT_OF_TOLERANCE" });
    expect(ours(payload, header({ timestamp: NOW + 300 })).ok).toBe(true);
  });

  it("signs the exact bytes: multi-byte UTF-8 bodies verify as sent", () => {
    const body = JSON.stringify({ id: "evt_2", description: "Café — 東京 🚀" });
    const signature = header({ body });
    expect(stripeAccepts(body, signature)).toBe(true);
    expect(ours(body, signature).ok).toBe(true);
    expect(verifyStripeSignature(body, signature, SECRET, { nowSeconds: NOW }).ok).toBe(true);
  });
});
