import type { Logger } from "./logger.ts";

/** Work that runs after a response was sent (e.g. a webhook's follow-up fetches from Stripe). */
export type BackgroundTasks = {
  /** Starts `task` now; its failure is logged, never thrown at the caller. */
  run(name: string, task: () => Promise<void>): void;
  /** Resolves once every task started so far, and any they started, has finished (shutdown, tests). */
  idle(): Promise<void>;
  readonly size: number;
};

/** Tracks each promise so shutdown and tests can wait for it; nothing is queued or retried here. */
export function createBackgroundTasks(logger: Logger): BackgroundTasks {
  const running = new Set<Promise<void>>();
  return {
    run(name, task) {
      const promise = Promise.resolve()
        .then(task)
        .catch((error: unknown) => logger.error({ err: error, task: name }, "background task failed"))
        .finally(() => running.delete(promise));
      running.add(promise);
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    get size() {
      return running.size;
    },
  };
}
