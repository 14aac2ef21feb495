import { createHmac } from "node:crypto";
import type { EmulatorClock } from "./clock.ts";
import { createRandom, randomToken } from "./random.ts";
import type { Mode, StripeObject } from "./types.ts";

export interface WebhookEndpoint {
  id: string;
  url: string;
  /** `whsec_…`; the HMAC key, used as-is like Stripe does. */
  secret: string;
  /** Connect endpoints receive events of connected accounts (those with `account`). */
  connect: boolean;
  /** Which modes' events it receives (Connect production endpoints get both). */
  mode: Mode | "both";
  /** Event types (`*` wildcards allowed). */
  enabledEvents: string[];
  /**
   * The platform that created it with `POST /v1/webhook_endpoints`: it then receives the events of the
   * accounts connected to that platform only. Null for endpoints of the control API: every account's.
   */
  platformId: string | null;
  /** Disabled endpoints receive nothing (`POST /v1/webhook_endpoints/:id` with `disabled`). */
  status: "enabled" | "disabled";
  created: number;
  description: string | null;
  metadata: Record<string, string>;
  apiVersion: string | null;
}

export interface WebhookEndpointInput {
  url: string;
  secret?: string;
  connect?: boolean;
  mode?: Mode | "both";
  enabledEvents?: string[];
  platformId?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
  apiVersion?: string | null;
}

/** Whether an account has (or had) the platform's app installed in a mode. */
export type ConnectedTo = (accountId: string, platformId: string, mode: Mode) => boolean;

export interface DeliveryOptions {
  /** First retry delay; doubles each attempt (Stripe's backoff, compressed). */
  retryBaseMs: number;
  maxAttempts: number;
  timeoutMs: number;
  /** Probability (0–1) that an event is delivered twice. */
  duplicate: number;
  /** Delay before the first attempt. */
  delayMs: number;
  /** Deliver the events recorded in one tick in reverse order. */
  reorder: boolean;
  /** How deliveries travel (default: the global fetch); tests route them to an in-process server. */
  fetch: (url: string, init: RequestInit) => Promise<Response>;
}

const DEFAULT_DELIVERY: DeliveryOptions = {
  retryBaseMs: 1000,
  maxAttempts: 4,
  timeoutMs: 10_000,
  duplicate: 0,
  delayMs: 0,
  reorder: false,
  fetch: (url, init) => fetch(url, init),
};

export interface DeliveryAttempt {
  eventId: string;
  eventType: string;
  endpointId: string;
  url: string;
  attempt: number;
  duplicate: boolean;
  status: number | null;
  error: string | null;
  ok: boolean;
  at: number;
}

/** `t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`, as in Stripe's `Stripe-Signature`. */
export function signPayload(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

function typeMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some(
    (p) => p === "*" || p === type || (p.endsWith(".*") && type.startsWith(p.slice(0, -1))),
  );
}

/** Signed delivery of recorded events to registered endpoints, with retries and test knobs. */
export class WebhookDispatcher {
  readonly endpoints: WebhookEndpoint[] = [];
  readonly deliveries: DeliveryAttempt[] = [];
  options: DeliveryOptions;
  private readonly tasks = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private batch: Array<[StripeObject, WebhookEndpoint]> = [];
  private closed = false;
  private readonly random = createRandom("webhooks");

  constructor(
    private readonly clock: EmulatorClock,
    options: Partial<DeliveryOptions> = {},
    private readonly connectedTo: ConnectedTo = () => true,
  ) {
    this.options = { ...DEFAULT_DELIVERY, ...options };
  }

  addEndpoint(input: WebhookEndpointInput): WebhookEndpoint {
    const endpoint: WebhookEndpoint = {
      id: randomToken("we", 24),
      url: input.url,
      secret: input.secret ?? randomToken("whsec", 32),
      connect: input.connect ?? true,
      mode: input.mode ?? "both",
      enabledEvents: input.enabledEvents ?? ["*"],
      platformId: input.platformId ?? null,
      status: "enabled",
      created: this.clock.seconds(),
      description: input.description ?? null,
      metadata: input.metadata ?? {},
      apiVersion: input.apiVersion ?? null,
    };
    this.endpoints.push(endpoint);
    return endpoint;
  }

  removeEndpoint(id: string): boolean {
    const index = this.endpoints.findIndex((endpoint) => endpoint.id === id);
    if (index >= 0) this.endpoints.splice(index, 1);
    return index >= 0;
  }

  /** Endpoints that should receive the event. */
  recipients(event: StripeObject): WebhookEndpoint[] {
    const mode: Mode = event.livemode ? "live" : "test";
    const account = typeof event.account === "string" ? event.account : null;
    return this.endpoints.filter(
      (e) =>
        e.status === "enabled" &&
        (e.mode === "both" || e.mode === mode) &&
        e.connect === (account !== null) &&
        // A platform's Connect endpoint hears of its own connected accounts only.
        (e.platformId === null || account === null || this.connectedTo(account, e.platformId, mode)) &&
        typeMatches(e.enabledEvents, event.type as string),
    );
  }

  enqueue(event: StripeObject): void {
    if (this.closed) return;
    for (const endpoint of this.recipients(event)) {
      if (!this.options.reorder) this.start(event, endpoint);
      else if (this.batch.push([event, endpoint]) === 1)
        this.track(this.sleep(0).then(() => this.releaseBatch()));
    }
  }

  private releaseBatch(): void {
    const batch = this.batch.reverse();
    this.batch = [];
    for (const [event, endpoint] of batch) this.start(event, endpoint);
  }

  private start(event: StripeObject, endpoint: WebhookEndpoint): void {
    this.track(this.deliver(event, endpoint, false));
    if (this.options.duplicate > 0 && this.random.chance(this.options.duplicate))
      this.track(this.deliver(event, endpoint, true));
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  private async deliver(event: StripeObject, endpoint: WebhookEndpoint, duplicate: boolean): Promise<void> {
    const body = JSON.stringify(event, null, 2);
    if (this.options.delayMs > 0) await this.sleep(this.options.delayMs);
    for (let attempt = 1; attempt <= this.options.maxAttempts && !this.closed; attempt++) {
      const record: DeliveryAttempt = {
        eventId: event.id,
        eventType: event.type as string,
        endpointId: endpoint.id,
        url: endpoint.url,
        attempt,
        duplicate,
        status: null,
        error: null,
        ok: false,
        at: this.clock.now(),
      };
      try {
        // Every attempt carries a fresh timestamp and signature, as Stripe's retries do.
        const response = await this.options.fetch(endpoint.url, {
          method: "POST",
          headers: {
            "content-type": "application/json; charset=utf-8",
            "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "stripe-signature": signPayload(body, endpoint.secret, this.clock.seconds()),
          },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined);
        record.status = response.status;
        record.ok = response.status >= 200 && response.status < 300;
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
      }
      this.deliveries.push(record);
      if (record.ok) {
        // Like Stripe, the stored event counts the endpoints still waiting for a successful delivery.
        if (!duplicate) event.pending_webhooks = Math.max(0, (event.pending_webhooks as number) - 1);
        return;
      }
      if (attempt < this.options.maxAttempts) await this.sleep(this.options.retryBaseMs * 2 ** (attempt - 1));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Resolves once every queued delivery (including retries) has finished. */
  async flush(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.tasks.clear();
  }
}
