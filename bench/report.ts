// The table of issue 12's targets from one run's measurements, as Markdown.
import type { Backfill } from "./backfill.ts";
import type { Fanout } from "./fanout.ts";
import { median, settings } from "./measure.ts";
import type { Outbound } from "./outbound.ts";
import type { Resume } from "./resume.ts";

/** A measurement, or why it has none (it failed, or does not apply to that database). */
export type Outcome<T> = { value: T } | { error: string } | null;

/** Requests per second of each round */
type Rates<K extends string> = Record<K, number[]>;

export type DatabaseResults = {
  queries: Outcome<Rates<"hello" | "viewer" | "first10" | "first100"> & { postgraphile?: number[] }>;
  webhooks: Outcome<Rates<"http200" | "webhooks">>;
  fanout: Outcome<Fanout>;
  resume: Outcome<Resume>;
  outbound: Outcome<Outbound>;
  backfill: Outcome<Backfill>;
  postgraphile: Outcome<number[]>;
};

export type RunResults = {
  embedded: DatabaseResults;
  /** null: TEST_DATABASE_URL is not set */
  postgres: DatabaseResults | null;
};

const int = (value: number) => Math.round(value).toLocaleString("en-US");
const ratio = (value: number) => (value < 0.1 ? value.toFixed(3) : value.toFixed(2));
const ms = (value: number) =>
  value === Number.POSITIVE_INFINITY
    ? "> 10 s"
    : value < 1000
      ? `${int(value)} ms`
      : `${(value / 1000).toFixed(1)} s`;

const pair = (a: string, b: string) => `${a} / ${b}`;

type Cell = { text: string; ratio?: number; met?: boolean };
type Side = "embedded" | "postgres";

/** One database's cell of a row: its value, ratio and whether it meets the target. */
function cell<T>(outcome: Outcome<T> | undefined, describe: (value: T) => Cell): Cell {
  if (!outcome) return { text: "–" };
  if ("error" in outcome) return { text: `failed: ${outcome.error.split("\n")[0]!.slice(0, 80)}` };
  return describe(outcome.value);
}

type Row = {
  path: string;
  baseline: string;
  target: Record<Side, string>;
  cells: Record<Side, Cell>;
};

/** A path's rounds beside its baseline's rounds (same database section of the run). */
type Paired = { value: number[]; base: number[] };

function rateRow(
  path: string,
  results: RunResults,
  pick: (db: DatabaseResults) => Outcome<Paired>,
  base: { name: string; unit: string },
  target: Record<Side, number | null>,
): Row {
  const outcome = (name: Side) => {
    const db = results[name];
    return db ? pick(db) : undefined;
  };
  const side = (name: Side): Cell => {
    const minimum = target[name];
    return cell(outcome(name), ({ value, base: baseRounds }) => {
      const r = median(value) / median(baseRounds);
      return {
        text: `${int(median(value))} ${base.unit}`,
        ratio: r,
        met: minimum === null ? undefined : r >= minimum,
      };
    });
  };
  const baseText = (name: Side) => {
    const measured = outcome(name);
    return measured && "value" in measured ? int(median(measured.value.base)) : "–";
  };
  const goal = (name: Side) => (target[name] === null ? "–" : `≥ ${target[name]!.toFixed(2)}`);
  return {
    path,
    baseline: `${base.name} ${results.postgres ? pair(baseText("embedded"), baseText("postgres")) : baseText("embedded")} req/s`,
    target: { embedded: goal("embedded"), postgres: goal("postgres") },
    cells: { embedded: side("embedded"), postgres: side("postgres") },
  };
}

function rows(results: RunResults): Row[] {
  const hello = { name: "Yoga `{ hello }`", unit: "req/s" };
  const queries =
    (key: "viewer" | "first10" | "first100") =>
    (db: DatabaseResults): Outcome<Paired> =>
      db.queries && "value" in db.queries
        ? { value: { value: db.queries.value[key], base: db.queries.value.hello } }
        : db.queries;
  const fanout = (name: Side, allDelivered: boolean): Cell =>
    cell(results[name]?.fanout ?? undefined, (value) => ({
      text: `p99 ${ms(value.p99)}, ${value.delivered.toFixed(2)} delivered within 10 s`,
      met: value.p99 <= 50 && (!allDelivered || value.delivered === 1),
    }));
  const resume = (name: Side): Cell =>
    cell(results[name]?.resume ?? undefined, (value) => ({
      text: `${ms(value.ms)} (${int((settings.missedChanges * 1000) / value.ms)} changes/s)`,
    }));
  const outboundRate = (name: Side): Cell =>
    cell(results[name]?.outbound ?? undefined, (value) => ({
      text: `${int(value.perSecond)} deliveries/s`,
      ratio: value.perSecond / value.baselinePerSecond,
    }));
  const outboundLatency = (name: Side): Cell =>
    cell(results[name]?.outbound ?? undefined, (value) => ({
      text: `p50 ${ms(value.p50)}, p99 ${ms(value.p99)}`,
    }));
  const backfill = (name: Side): Cell =>
    cell(results[name]?.backfill ?? undefined, (value) => {
      const ready = value.rounds.every((round) => round.ready);
      const middle = value.rounds.find((round) => round.objects / round.seconds === value.objectsPerSecond);
      return {
        text: ready
          ? `${int(value.objectsPerSecond)} objects/s (${int(middle?.objects ?? 0)} in ${middle?.seconds.toFixed(1)} s)`
          : `not READY within ${settings.backfillTimeout} s: ${int(value.objectsPerSecond)} objects/s so far`,
        ratio: value.objectsPerSecond / 12.5,
        met: ready && value.objectsPerSecond >= 1000,
      };
    });
  // PostGraphile over the same tables: the gateway's payouts(first: 100) rate ÷ PostGraphile's.
  const postgraphileRate = (name: Side) => {
    const measured = results[name]?.postgraphile;
    return measured && "value" in measured ? median(measured.value) : Number.NaN;
  };
  const postgraphileText = (name: Side) => {
    const measured = results[name]?.postgraphile;
    if (!measured) return "–";
    return "value" in measured ? `${int(postgraphileRate(name))} req/s` : "failed";
  };
  const postgraphile = (name: Side, minimum: number | null): Cell =>
    cell(results[name]?.postgraphile ?? undefined, () =>
      cell(results[name]?.queries ?? undefined, (value) => {
        const r = median(value.first100) / postgraphileRate(name);
        return {
          text: `${int(median(value.first100))} req/s`,
          ratio: r,
          met: minimum === null ? undefined : r >= minimum,
        };
      }),
    );
  return [
    rateRow("`{ viewer { id } }` with an API key", results, queries("viewer"), hello, {
      embedded: 0.4,
      postgres: 0.5,
    }),
    rateRow("`stripeConnection → payouts(first: 10)` (6 fields)", results, queries("first10"), hello, {
      embedded: 0.15,
      postgres: 0.3,
    }),
    rateRow("`… payouts(first: 100)`", results, queries("first100"), hello, {
      embedded: 0.06,
      postgres: 0.12,
    }),
    rateRow(
      "signed webhook, stored and applied",
      results,
      (db) =>
        db.webhooks && "value" in db.webhooks
          ? { value: { value: db.webhooks.value.webhooks, base: db.webhooks.value.http200 } }
          : db.webhooks,
      { name: "bare node:http 200", unit: "events/s" },
      { embedded: 0.06, postgres: 0.1 },
    ),
    {
      path: `webhook → ${settings.subscribers} SSE subscribers at ${settings.fanoutRate} events/s`,
      baseline: "–",
      target: { embedded: "p99 ≤ 50 ms, all delivered", postgres: "p99 ≤ 50 ms" },
      cells: { embedded: fanout("embedded", true), postgres: fanout("postgres", false) },
    },
    {
      path: `\`changes(after:)\` resumed after ${int(settings.missedChanges)} missed changes, until live again`,
      baseline: "–",
      target: { embedded: "–", postgres: "–" },
      cells: { embedded: resume("embedded"), postgres: resume("postgres") },
    },
    {
      path: "signed webhooks to the org's endpoint (verified by the receiver)",
      baseline: "bare node:http POSTs of the same bodies, 8 at a time",
      target: { embedded: "–", postgres: "–" },
      cells: { embedded: outboundRate("embedded"), postgres: outboundRate("postgres") },
    },
    {
      path: "Stripe webhook arriving → the org's endpoint receiving its delivery",
      baseline: "–",
      target: { embedded: "–", postgres: "–" },
      cells: { embedded: outboundLatency("embedded"), postgres: outboundLatency("postgres") },
    },
    {
      path: "backfill against the emulator to READY (every list resource stored)",
      baseline: "budget 12.5 req/s (ratio: objects per request)",
      target: { embedded: "≥ 1,000 objects/s", postgres: "≥ 1,000 objects/s" },
      cells: { embedded: backfill("embedded"), postgres: backfill("postgres") },
    },
    {
      path: "`payouts(first: 100)`, gateway ÷ PostGraphile 4 over the same tables",
      baseline: `PostGraphile ${results.postgres ? pair(postgraphileText("embedded"), postgraphileText("postgres")) : postgraphileText("embedded")}`,
      target: { embedded: "–", postgres: "≥ 1.0" },
      cells: { embedded: postgraphile("embedded", null), postgres: postgraphile("postgres", 1) },
    },
  ];
}

const metText = (c: Cell) => (c.met === undefined ? "–" : c.met ? "met" : "**not met**");

export function table(results: RunResults): string {
  const lines = [
    "| path | embedded PostgreSQL | PostgreSQL | baseline | ratio (embedded / PostgreSQL) | target (embedded / PostgreSQL) | met (embedded / PostgreSQL) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  const pgMissing = results.postgres === null;
  for (const row of rows(results)) {
    const { embedded, postgres } = row.cells;
    const pgText = pgMissing ? "not run" : postgres.text;
    const r = (c: Cell) => (c.ratio === undefined ? "–" : ratio(c.ratio));
    lines.push(
      `| ${row.path} | ${embedded.text} | ${pgText} | ${row.baseline} | ${pair(r(embedded), pgMissing ? "–" : r(postgres))} | ${pair(row.target.embedded, row.target.postgres)} | ${pair(metText(embedded), pgMissing ? "–" : metText(postgres))} |`,
    );
  }
  return lines.join("\n");
}

/** Every round behind each median, for whoever doubts one. */
export function roundsDetail(results: RunResults): string {
  const list = (values: number[]) => values.map(int).join(", ");
  const lines: string[] = [];
  for (const side of ["embedded", "postgres"] as const) {
    const db = results[side];
    if (!db) continue;
    const name = side === "embedded" ? "embedded PostgreSQL" : "PostgreSQL";
    const parts: string[] = [];
    if (db.queries && "value" in db.queries) {
      const { hello, viewer, first10, first100 } = db.queries.value;
      parts.push(
        `hello ${list(hello)}; viewer ${list(viewer)}; first 10 ${list(first10)}; first 100 ${list(first100)} req/s`,
      );
    }
    if (db.webhooks && "value" in db.webhooks)
      parts.push(
        `bare 200 ${list(db.webhooks.value.http200)} req/s; webhooks ${list(db.webhooks.value.webhooks)} events/s`,
      );
    if (db.fanout && "value" in db.fanout)
      parts.push(
        `fan-out ${db.fanout.value.rounds
          .map(
            (round) =>
              `p50 ${ms(round.p50)} p99 ${ms(round.p99)} delivered ${round.delivered.toFixed(3)}${round.notAcknowledged ? ` (${round.notAcknowledged} webhooks unanswered)` : ""}`,
          )
          .join("; ")}`,
      );
    if (db.resume && "value" in db.resume)
      parts.push(`resume ${db.resume.value.rounds.map((round) => ms(round)).join("; ")}`);
    if (db.outbound && "value" in db.outbound)
      parts.push(
        `outbound ${db.outbound.value.rounds
          .map(
            (round) =>
              `${int(round.perSecond)} deliveries/s (bare ${int(round.baselinePerSecond)}/s), p50 ${ms(round.p50)} p99 ${ms(round.p99)}`,
          )
          .join("; ")}`,
      );
    if (db.backfill && "value" in db.backfill)
      parts.push(
        `backfill ${db.backfill.value.rounds
          .map(
            (round) =>
              `${int(round.objects)} objects in ${round.seconds.toFixed(1)} s${round.ready ? "" : " (not READY)"}`,
          )
          .join("; ")}`,
      );
    if (db.postgraphile && "value" in db.postgraphile)
      parts.push(`PostGraphile ${list(db.postgraphile.value)} req/s`);
    lines.push(`- ${name}: ${parts.join(" · ")}`);
  }
  return lines.join("\n");
}
