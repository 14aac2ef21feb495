// What every measured path shares: the run's settings (env), autocannon at 50 connections, medians.
import autocannon from "autocannon";

const num = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

/** Durations and sizes of one run; each can be set in the environment (BENCH_SECONDS=2 npm run bench). */
export const settings = {
  /** Seconds of each autocannon round */
  seconds: num("BENCH_SECONDS", 5),
  /** Rounds of every measurement; the table shows their median */
  rounds: num("BENCH_ROUNDS", 3),
  connections: num("BENCH_CONNECTIONS", 50),
  /** Seconds of webhooks at 200 events/s per fan-out round */
  fanoutSeconds: num("BENCH_FANOUT_SECONDS", 4),
  subscribers: num("BENCH_SUBSCRIBERS", 100),
  fanoutRate: num("BENCH_FANOUT_RATE", 200),
  /** Changes a `changes` subscriber misses before it resumes with `after` */
  missedChanges: num("BENCH_MISSED_CHANGES", 1000),
  /** Deliveries to the org's endpoint per outbound-throughput round */
  outboundDeliveries: num("BENCH_OUTBOUND_DELIVERIES", 1000),
  /** Payouts (and charges per payout) of the emulator account the backfill copies */
  backfillPayouts: num("BENCH_BACKFILL_PAYOUTS", 250),
  backfillCharges: num("BENCH_BACKFILL_CHARGES", 6),
  /** A backfill not READY after this many seconds counts what it stored so far */
  backfillTimeout: num("BENCH_BACKFILL_TIMEOUT", 90),
} as const;

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export type Load = {
  url: string;
  headers?: Record<string, string>;
  /** One fixed body, or a new body (and headers) for every request */
  body: string | (() => { body: string; headers?: Record<string, string> });
  seconds?: number;
};

/** Requests per second that answered 2xx, with settings.connections connections; throws on any failure. */
export async function requestsPerSecond(load: Load): Promise<number> {
  const { body } = load;
  const headers = { "content-type": "application/json", ...load.headers };
  const result = await autocannon({
    url: load.url,
    method: "POST",
    connections: settings.connections,
    duration: load.seconds ?? settings.seconds,
    headers,
    ...(typeof body === "string"
      ? { body }
      : {
          requests: [
            {
              method: "POST",
              setupRequest: (request) => {
                const next = body();
                return { ...request, headers: { ...headers, ...next.headers }, body: next.body };
              },
            },
          ],
        }),
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0)
    throw new Error(
      `${load.url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  return result.requests.average;
}

/**
 * A short unmeasured round of each load (JIT, caches, pools), then settings.rounds rounds in which every
 * load takes its turn, so a path and its baseline see the same machine: each load's values.
 */
export async function interleaved<K extends string>(loads: Record<K, Load>): Promise<Record<K, number[]>> {
  const names = Object.keys(loads) as K[];
  for (const name of names) await requestsPerSecond({ ...loads[name], seconds: 1 });
  const values = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < settings.rounds; round++)
    for (const name of names) values[name].push(await requestsPerSecond(loads[name]));
  return values;
}
