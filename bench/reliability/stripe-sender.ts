// Webhooks as Stripe sends them: a new event at a steady rate, and every delivery not answered 2xx sent
// again with exponential backoff (newly signed, with a new timestamp, as Stripe does) until it is.
import type { Http } from "./http.ts";
import { sleep } from "./phases.ts";
import type { OrgWorld } from "./setup.ts";
import { type Delivery, payoutDelivery, signatureHeader } from "./webhook-signing.ts";

/** One delivery attempt: wall-clock ms when sent and answered, and the answer (0: none). */
export type Attempt = {
  eventId: string;
  attempt: number;
  sentAt: number;
  answeredAt: number;
  status: number;
};
export type SentEvent = Delivery & { firstSentAt: number; attempts: number; ackedAt: number | null };

export type StripeSender = {
  events: Map<string, SentEvent>;
  attempts: Attempt[];
  /** Stops creating events; deliveries not yet acknowledged keep being retried. */
  stopNew(): void;
  /** Resolves once every event is acknowledged, or at the deadline (retries then stop). */
  drain(timeoutMs: number): Promise<{ unacknowledged: number }>;
};

export function startStripeSender(options: {
  http: Http;
  gateway: string;
  org: OrgWorld;
  perSecond: number;
  payoutPrefix: string;
  retryBaseMs?: number;
  retryMaxMs?: number;
}): StripeSender {
  const { http, gateway, org } = options;
  const base = options.retryBaseMs ?? 1_000;
  const max = options.retryMaxMs ?? 8_000;
  const events = new Map<string, SentEvent>();
  const attempts: Attempt[] = [];
  const pending = new Set<Promise<void>>();
  let creating = true;
  let retrying = true;

  const deliver = async (event: SentEvent): Promise<void> => {
    while (retrying) {
      event.attempts += 1;
      const sentAt = Date.now();
      const answer = await http.request(`${gateway}${org.webhookPath}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "stripe-signature": signatureHeader(event.body, org.signingSecret),
        },
        body: event.body,
        timeoutMs: 10_000,
      });
      attempts.push({
        eventId: event.eventId,
        attempt: event.attempts,
        sentAt,
        answeredAt: Date.now(),
        status: answer.status,
      });
      if (answer.status >= 200 && answer.status < 300) {
        event.ackedAt = Date.now();
        return;
      }
      const backoff = Math.min(max, base * 2 ** (event.attempts - 1)) * (0.9 + Math.random() * 0.2);
      await sleep(backoff);
    }
  };

  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };

  track(
    (async () => {
      const began = performance.now();
      for (let i = 0; creating; i++) {
        const due = began + (i * 1000) / options.perSecond;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (!creating) break;
        const event: SentEvent = {
          ...payoutDelivery(org.account, options.payoutPrefix),
          firstSentAt: Date.now(),
          attempts: 0,
          ackedAt: null,
        };
        events.set(event.eventId, event);
        track(deliver(event));
      }
    })(),
  );

  return {
    events,
    attempts,
    stopNew: () => {
      creating = false;
    },
    async drain(timeoutMs) {
      creating = false;
      const deadline = performance.now() + timeoutMs;
      while (pending.size > 0 && performance.now() < deadline) await sleep(100);
      retrying = false;
      return { unacknowledged: [...events.values()].filter((event) => event.ackedAt === null).length };
    },
  };
}
