import { readFileSync } from "node:fs";
import Stripe from "stripe";
import type { App } from "../../src/app.ts";

const stripe = new Stripe("sk_test_unused", { telemetry: false });

export const WEBHOOK_SECRET = "whsec_gatewayTestSecret0123456789";

export type TestEvent = {
  id: string;
  object: "event";
  type: string;
  created: number;
  livemode: boolean;
  account?: string | null;
  api_version: string | null;
  pending_webhooks: number;
  request: { id: null; idempotency_key: null };
  data: { object: Record<string, unknown> & { id: string }; previous_attributes?: Record<string, unknown> };
};

let sequence = 0;

/** A v1 snapshot event around `object`, as Stripe sends it for a connected account. */
export function makeEvent(
  type: string,
  object: Record<string, unknown> & { id: string },
  options: { account: string | null; created: number; livemode?: boolean; id?: string },
): TestEvent {
  sequence += 1;
  return {
    id: options.id ?? `evt_test_${Date.now().toString(36)}_${sequence}`,
    object: "event",
    type,
    created: options.created,
    livemode: options.livemode ?? false,
    ...(options.account === null ? {} : { account: options.account }),
    api_version: "2026-10-28.endive",
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  };
}

/**
 * A real Stripe event of `type` from test/fixtures/events/<type>.json (Stripe's own example objects in its
 * v1 snapshot envelope), for a connected account: `object` fields replace the example's, and the event
 * gets a fresh id unless one is given.
 */
export function eventFixture(
  type: string,
  options: {
    account: string | null;
    created: number;
    livemode?: boolean;
    id?: string;
    object?: Record<string, unknown>;
  },
): TestEvent {
  const fixture = JSON.parse(
    readFileSync(new URL(`../fixtures/events/${type}.json`, import.meta.url), "utf8"),
  ) as TestEvent;
  if (fixture.type !== type) throw new Error(`fixture ${type}.json holds a ${fixture.type} event`);
  sequence += 1;
  const { account: _account, ...envelope } = fixture;
  return {
    ...envelope,
    id: options.id ?? `evt_test_${Date.now().toString(36)}_${sequence}`,
    created: options.created,
    livemode: options.livemode ?? false,
    ...(options.account === null ? {} : { account: options.account }),
    data: { ...fixture.data, object: { ...fixture.data.object, ...options.object } },
  };
}

/** `Stripe-Signature` for a body, made by stripe-node itself. */
export function signatureFor(body: string, options: { secret?: string; timestamp: number }): string {
  return stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret: options.secret ?? WEBHOOK_SECRET,
    timestamp: options.timestamp,
  });
}

/** POSTs a body to the org's webhook route through app.fetch; signs it unless a signature is given. */
export async function postWebhook(
  app: App,
  orgId: string,
  body: string,
  options: { timestamp: number; signature?: string | null; secret?: string },
): Promise<{
  status: number;
  json: { received?: boolean; outcome?: string; error?: { code: string; message: string } };
}> {
  const signature =
    options.signature === undefined ? signatureFor(body, options) : (options.signature ?? undefined);
  const response = await app.fetch(
    new Request(`https://gateway.test/stripe/webhooks/${orgId}`, {
      method: "POST",
      headers: {
        "content-type": "application/json; charset=utf-8",
        ...(signature === undefined ? {} : { "stripe-signature": signature }),
      },
      body,
    }),
  );
  return { status: response.status, json: (await response.json()) as never };
}
