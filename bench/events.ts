// Signed Stripe webhook deliveries as the gateway receives them: each a new payout, so every delivery
// stores an event and writes a row.
import { createHmac } from "node:crypto";

export const SIGNING_SECRET = "whsec_benchSecret0123456789abcdef";

let sequence = 0;
const run = Date.now().toString(36);

export type SignedEvent = { body: string; signature: string; payoutId: string };

export function signedPayoutEvent(account: string, payoutPrefix = "po_bench"): SignedEvent {
  sequence += 1;
  const now = Math.floor(Date.now() / 1000);
  const payoutId = `${payoutPrefix}_${run}_${sequence}`;
  const body = JSON.stringify({
    id: `evt_bench_${run}_${sequence}`,
    object: "event",
    type: "payout.updated",
    account,
    livemode: false,
    created: now,
    api_version: "2026-10-28.endive",
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id: payoutId,
        object: "payout",
        amount: 1000 + sequence,
        currency: "usd",
        status: "paid",
        created: now,
        arrival_date: now,
      },
    },
  });
  const signature = createHmac("sha256", SIGNING_SECRET).update(`${now}.${body}`, "utf8").digest("hex");
  return { body, signature: `t=${now},v1=${signature}`, payoutId };
}
