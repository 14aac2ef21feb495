/** Runs `work` over `items` with at most `concurrency` at once; stops taking new items once `signal` aborts. */
export async function inPool<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  work: (item: T, index: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (!signal.aborted && next < items.length) {
      const index = next++;
      await work(items[index]!, index);
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
