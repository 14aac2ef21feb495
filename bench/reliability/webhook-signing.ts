// Signed deliveries for the run: bench/events.ts builds each event (a new payout for the account, signed
// with its SIGNING_SECRET); another org's secret, or a new timestamp for a retry, re-signs the same bytes.
import { createHmac } from "node:crypto";
import { SIGNING_SECRET, signedPayoutEvent } from "../events.ts";

export { SIGNING_SECRET };

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** v1: HMAC-SHA256 of `${t}.${body}` keyed with the whole whsec_… secret, in hex. */
export function v1Signature(body: string | Buffer, secret: string, t: number): string {
  return createHmac("sha256", secret).update(`${t}.`, "utf8").update(body).digest("hex");
}

export const signatureHeader = (body: string | Buffer, secret: string, t = nowSeconds()) =>
  `t=${t},v1=${v1Signature(body, secret, t)}`;

export type Delivery = { eventId: string; payoutId: string; body: string };

/** A new `payout.updated` event (a new payout) for `account`. */
export function payoutDelivery(account: string, payoutPrefix: string): Delivery {
  const event = signedPayoutEvent(account, payoutPrefix);
  return {
    eventId: (JSON.parse(event.body) as { id: string }).id,
    payoutId: event.payoutId,
    body: event.body,
  };
}
