/**
 * Runs `work` over `items` with at most `concurrency` at once; stops taking new items once `signal` aborts.
 * An item whose work throws is counted in `failed` (by message) and the others go on.
 */
export async function inPool<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  work: (item: T, index: number) => Promise<void>,
  failed?: Tally,
): Promise<number> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (!signal.aborted && next < items.length) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (error) {
        if (!failed) throw error;
        failed.add(error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 120) : String(error));
      }
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return done;
}

/** Counts of each key, as a plain record. */
export class Tally {
  readonly counts: Record<string, number> = {};
  add(key: string | number, by = 1) {
    this.counts[String(key)] = (this.counts[String(key)] ?? 0) + by;
  }
  get(key: string | number) {
    return this.counts[String(key)] ?? 0;
  }
  total() {
    return Object.values(this.counts).reduce((sum, n) => sum + n, 0);
  }
}

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]! : Number.NaN;
};
