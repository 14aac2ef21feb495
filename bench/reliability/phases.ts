// Every phase of the run has a deadline: its work gets a signal that aborts at the deadline (loops stop
// sending and report what they did), and a phase still running a grace period later is abandoned.

const GRACE_MS = 15_000;

export type PhaseOutcome<T> =
  | { ok: true; value: T; seconds: number; deadlineSeconds: number; cutShort: boolean }
  | { ok: false; error: string; seconds: number; deadlineSeconds: number };

const started = performance.now();

export const elapsedSeconds = () => (performance.now() - started) / 1000;

export function step(message: string) {
  console.log(`[${elapsedSeconds().toFixed(0).padStart(3)} s] ${message}`);
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** Thrown by an `until` check to stop waiting at once. */
export class GiveUp extends Error {}

/** Waits until `check` returns a value other than undefined, polling every `everyMs`; throws at `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch((error: unknown) => {
      if (error instanceof GiveUp) throw error;
      return undefined;
    });
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(everyMs);
  }
}

/**
 * Runs one phase within `deadlineSeconds`. The work sees `signal` abort at the deadline; `cutShort` says
 * whether it did. A phase that throws (or outlives the grace period) is reported as failed, and the run
 * goes on with the next one.
 */
export async function runPhase<T>(
  name: string,
  deadlineSeconds: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<PhaseOutcome<T>> {
  step(`${name} (deadline ${deadlineSeconds} s)`);
  const begin = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deadlineSeconds * 1000);
  let abandon: NodeJS.Timeout | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    abandon = setTimeout(
      () => reject(new Error(`still running ${GRACE_MS / 1000} s after its deadline`)),
      deadlineSeconds * 1000 + GRACE_MS,
    );
  });
  const seconds = () => (performance.now() - begin) / 1000;
  try {
    const value = await Promise.race([work(controller.signal), abandoned]);
    step(`${name}: done in ${seconds().toFixed(1)} s`);
    return { ok: true, value, seconds: seconds(), deadlineSeconds, cutShort: controller.signal.aborted };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    step(`${name}: FAILED after ${seconds().toFixed(1)} s: ${message}`);
    return { ok: false, error: message, seconds: seconds(), deadlineSeconds };
  } finally {
    clearTimeout(timer);
    clearTimeout(abandon);
    controller.abort();
  }
}
