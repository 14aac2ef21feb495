/**
 * Re-checks `condition` until it returns something truthy and returns that: for outcomes nothing announces
 * (a row a background job writes, a process's state). Fails after `timeoutMs` with `what` and the last error.
 */
export async function eventually<T>(
  condition: () => Promise<T> | T,
  options: { what?: string; timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const { what = "the condition held", timeoutMs = 15_000, intervalMs = 10 } = options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
