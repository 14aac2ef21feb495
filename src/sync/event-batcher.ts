import { type ApplyResult, applyStripeEvents, type EventDelivery } from "./apply-event.ts";
import type { SyncDeps } from "./sync-deps.ts";

/** Group commit of events: deliveries that arrive while a transaction runs share the next one. */
export type EventBatcher = {
  /**
   * Applies the event in the next transaction; resolves once that transaction has committed (the event
   * is stored), rejects when the event could not be stored.
   */
  apply(delivery: EventDelivery): Promise<ApplyResult>;
  /** Resolves once every delivery handed in so far is settled (shutdown, tests). */
  idle(): Promise<void>;
};

type Pending = EventDelivery & {
  resolve(result: ApplyResult): void;
  reject(error: unknown): void;
};

/** After the I/O of this turn of the event loop: the requests already received have been read. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Enough to amortise a transaction, few enough to keep each statement small and each commit quick. */
const MAX_BATCH = 200;

/**
 * One transaction at a time per instance: a delivery to an idle batcher starts one after this turn of the
 * event loop (with every delivery read in the same turn); those arriving while it runs queue and go
 * together into the next (their order in it is their arrival order, so the batch has
 * the result of applying them one by one). A delivery is answered only when the transaction holding its
 * event has committed. A failed batch of several is taken apart: each of its events is tried again in its
 * own transaction, so only an event that fails alone is refused, and the others are acknowledged.
 */
export function createEventBatcher(deps: SyncDeps, options: { maxBatch?: number } = {}): EventBatcher {
  const maxBatch = options.maxBatch ?? MAX_BATCH;
  let queue: Pending[] = [];
  let running: Promise<void> | null = null;

  async function settle(batch: Pending[]) {
    try {
      const results = await applyStripeEvents(deps, batch);
      for (const [index, pending] of batch.entries()) pending.resolve(results[index]!);
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      deps.logger.warn(
        { err: error, events: batch.length },
        "a batch of events failed; trying each in its own transaction",
      );
    }
    for (const pending of batch) {
      try {
        const [result] = await applyStripeEvents(deps, [pending]);
        pending.resolve(result!);
      } catch (error) {
        pending.reject(error);
      }
    }
  }

  async function drain() {
    // Deliveries that arrived together (in the same turn of the event loop) start the transaction together.
    // Without this wait nothing would ever share one on the embedded database: it answers within the
    // microtasks of the delivery that called it, so no other request is even read until it is done.
    await nextTurn();
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      await settle(batch);
      // Subscribers just heard of the batch: let their reads reach the database before the next batch
      // takes it (the embedded database runs one statement at a time).
      if (queue.length > 0) await nextTurn();
    }
  }

  function start() {
    running = drain().finally(() => {
      running = null;
      // A delivery queued during the last step after its loop check.
      if (queue.length > 0) start();
    });
  }

  return {
    apply(delivery) {
      return new Promise<ApplyResult>((resolve, reject) => {
        queue.push({ ...delivery, resolve, reject });
        if (!running) start();
      });
    },
    async idle() {
      while (running) await running;
    },
  };
}
