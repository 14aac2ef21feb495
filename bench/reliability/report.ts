// bench/RELIABILITY.md: the checks with their figures first, then a section per scenario with its tables
// and how it was measured. Every secret of the run is masked out of the text, whatever put it there.
import type { CrashResults } from "./crash-backfill.ts";
import type { DatabaseOutageResults } from "./database-outage.ts";
import { FINDINGS } from "./findings.ts";
import type { GraphQLFuzzResults } from "./graphql-inputs.ts";
import type { Periods } from "./outage.ts";
import type { PhaseOutcome } from "./phases.ts";
import type { Tally } from "./pool.ts";
import type { RedisOutageResults } from "./redis-outage.ts";
import type { Secret } from "./secrets.ts";
import type { ScanResults } from "./secrets-scan.ts";
import type { settings } from "./settings.ts";
import type { MutationResults } from "./webhook-mutations.ts";

export type RunResults = {
  settings: typeof settings;
  notes: string[];
  errorsLogged: { gateway: string; lines: Tally }[];
  infrastructure?: { postgresPort: number; redisPort: number };
  setupSeconds?: number;
  mutations?: PhaseOutcome<MutationResults>;
  graphql?: PhaseOutcome<GraphQLFuzzResults & { causes: Tally }>;
  redis?: PhaseOutcome<RedisOutageResults>;
  postgres?: PhaseOutcome<DatabaseOutageResults>;
  crash?: PhaseOutcome<CrashResults>;
  secrets?: PhaseOutcome<ScanResults>;
  fatal?: string;
  seconds?: number;
  machine?: string;
  finished?: string;
};

export type Check = { scenario: string; name: string; figure: string; passed: boolean };

const n = (value: number) => value.toLocaleString("en-US");
const s = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined || Number.isNaN(value) ? "–" : `${value.toFixed(digits)} s`;
const ms = (value: number) => (Number.isNaN(value) ? "–" : `${Math.round(value)} ms`);
const statuses = (tally: Tally | undefined) =>
  tally && tally.total() > 0
    ? Object.entries(tally.counts)
        .sort(([, a], [, b]) => b - a)
        .map(([key, count]) => `${key} × ${n(count)}`)
        .join(", ")
    : "–";
const sumWhere = (tally: Tally, test: (key: string) => boolean) =>
  Object.entries(tally.counts).reduce((sum, [key, count]) => sum + (test(key) ? count : 0), 0);
const is2xx = (key: string) => /^2\d\d$/.test(key);
const is5xx = (key: string) => /^5\d\d$/.test(key);
const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");
const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map((c) => cell(String(c))).join(" | ")} |`),
  ].join("\n");

function phaseChecks<T>(
  scenario: string,
  phase: PhaseOutcome<T> | undefined,
  make: (value: T) => Check[],
): Check[] {
  if (!phase) return [{ scenario, name: "ran", figure: "not run (an earlier phase failed)", passed: false }];
  if (!phase.ok) return [{ scenario, name: "ran", figure: `failed: ${phase.error}`, passed: false }];
  return make(phase.value);
}

export function checks(results: RunResults): Check[] {
  return [
    ...phaseChecks("1. webhook mutations", results.mutations, (m) => {
      const forged = m.families.filter((f) => f.class === "forged");
      const replay = m.families.filter((f) => f.class === "replay");
      return [
        {
          scenario: "1",
          name: "forged deliveries verified",
          figure: `${n(forged.reduce((a, f) => a + f.verified, 0))} of ${n(forged.reduce((a, f) => a + f.sent, 0))}`,
          passed: forged.every((f) => f.verified === 0),
        },
        {
          scenario: "1",
          name: "5xx answers to mutated deliveries",
          figure: `${n(m.families.reduce((a, f) => a + f.serverErrors, 0))} of ${n(m.families.reduce((a, f) => a + f.sent, 0))}`,
          passed: m.families.every((f) => f.serverErrors === 0),
        },
        {
          scenario: "1",
          name: "replays answered as duplicates",
          figure: `${n(replay.reduce((a, f) => a + f.outcomes.get("duplicate"), 0))} of ${n(replay.reduce((a, f) => a + f.sent, 0))}`,
          passed: replay.every((f) => f.outcomes.get("duplicate") === f.sent),
        },
        {
          scenario: "1",
          name: "deliveries the bench failed to send",
          figure: `${n(m.benchErrors.total())}${m.benchErrors.total() ? ` (${statuses(m.benchErrors)})` : ""}`,
          passed: m.benchErrors.total() === 0,
        },
      ];
    }),
    ...phaseChecks("2. GraphQL inputs", results.graphql, (g) => [
      {
        scenario: "2",
        name: "GraphQL 5xx answers",
        figure: `${n(g.serverErrorCount)} of ${n(g.requests)}`,
        passed: g.serverErrorCount === 0,
      },
      {
        scenario: "2",
        name: "answers showing internals",
        figure: n(g.leaks.total()),
        passed: g.leaks.total() === 0,
      },
      {
        scenario: "2",
        name: "answers showing another org's data",
        figure: n(g.crossOrg),
        passed: g.crossOrg === 0,
      },
      {
        scenario: "2",
        name: "requests without an answer",
        figure: n(g.statuses.get("no answer")),
        passed: g.statuses.get("no answer") === 0,
      },
      {
        scenario: "2",
        name: "requests the bench failed to send",
        figure: `${n(g.benchErrors.total())}${g.benchErrors.total() ? ` (${statuses(g.benchErrors)})` : ""}`,
        passed: g.benchErrors.total() === 0,
      },
    ]),
    ...phaseChecks("3. PostgreSQL stopped", results.postgres, (p) => {
      const down = p.webhooks.down;
      return [
        {
          scenario: "3",
          name: "webhook 2xx while PostgreSQL was down",
          figure: n(sumWhere(down, is2xx)),
          passed: sumWhere(down, is2xx) === 0,
        },
        {
          scenario: "3",
          name: "webhook answers other than 5xx while down",
          figure: n(sumWhere(down, (k) => !is5xx(k))),
          passed: sumWhere(down, (k) => !is5xx(k)) === 0,
        },
        {
          scenario: "3",
          name: "events lost after retries",
          figure: `${n(p.events.lost)} of ${n(p.events.sent)}`,
          passed: p.events.lost === 0,
        },
        {
          scenario: "3",
          name: "2xx for an event not stored",
          figure: n(p.events.acknowledgedNotStored),
          passed: p.events.acknowledgedNotStored === 0,
        },
        {
          scenario: "3",
          name: "served again without a restart",
          figure: p.recovery.samePid
            ? `same process, first 2xx ${s(p.recovery.firstWebhook2xxSeconds)} after PostgreSQL was back`
            : `process exited (${p.recovery.exit})`,
          passed: p.recovery.samePid && p.recovery.firstWebhook2xxSeconds !== null,
        },
        {
          scenario: "3",
          name: "answers showing internals meanwhile",
          figure: n(p.leaks.total()),
          passed: p.leaks.total() === 0,
        },
      ];
    }),
    ...phaseChecks("4. Redis killed", results.redis, (r) => [
      {
        scenario: "4",
        name: "webhook answers other than 2xx while Redis was down",
        figure: n(r.webhooks.down.total() - sumWhere(r.webhooks.down, is2xx)),
        passed: r.webhooks.down.total() > 0 && r.webhooks.down.total() === sumWhere(r.webhooks.down, is2xx),
      },
      {
        scenario: "4",
        name: "local subscriber heard every payout acknowledged while down",
        figure: `${n(r.byPeriod.down.heard)} of ${n(r.byPeriod.down.acknowledged)}`,
        passed: r.byPeriod.down.acknowledged > 0 && r.byPeriod.down.heard === r.byPeriod.down.acknowledged,
      },
      {
        scenario: "4",
        name: "answers showing internals meanwhile",
        figure: n(r.leaks.total()),
        passed: r.leaks.total() === 0,
      },
      { scenario: "4", name: "same process throughout", figure: r.samePid ? "yes" : "no", passed: r.samePid },
    ]),
    ...phaseChecks("5. SIGKILL mid-backfill", results.crash, (c) => [
      {
        scenario: "5",
        name: "resumed to READY on the same database",
        figure:
          c.restart.readySeconds === null
            ? "not READY"
            : `READY ${s(c.restart.readySeconds)} after the restart`,
        passed: c.restart.readySeconds !== null,
      },
      { scenario: "5", name: "duplicate rows", figure: n(c.duplicates), passed: c.duplicates === 0 },
      {
        scenario: "5",
        name: "rows missing or extra against the emulator",
        figure: `${n(c.missing)} missing, ${n(c.extra)} extra of ${n(c.objects)}`,
        passed: c.missing === 0 && c.extra === 0,
      },
    ]),
    ...phaseChecks("6. secrets", results.secrets, (scan) => [
      {
        scenario: "6",
        name: "secret occurrences in logs and answers",
        figure: `${n(scan.total)} (${n(Object.values(scan.secrets).reduce((a, b) => a + b, 0))} secrets, ${n(scan.files.reduce((a, f) => a + f.lines, 0))} lines)`,
        passed: scan.total === 0,
      },
    ]),
  ];
}

function periodsTable(columns: Record<string, Periods>) {
  const periods = ["before", "down", "after", "transition"] as const;
  return table(
    ["period", ...Object.keys(columns)],
    periods.map((period) => [period, ...Object.values(columns).map((p) => statuses(p[period]))]),
  );
}

function mutationsSection(m: MutationResults, results: RunResults) {
  const classes = ["forged", "equivalent", "transport", "replay", "resigned", "framing"] as const;
  const expected: Record<(typeof classes)[number], string> = {
    forged: "never verified, never 5xx",
    equivalent: "may verify (the valid t and v1 are there), never 5xx",
    transport: "verify (bytes and signature intact), never 5xx",
    replay: "200 duplicate",
    resigned: "2xx or 400 MALFORMED_EVENT, never 5xx",
    framing: "refused by HTTP or answered 4xx, never 5xx",
  };
  const byClass = classes.map((kind) => {
    const families = m.families.filter((f) => f.class === kind);
    return [
      kind,
      n(families.reduce((a, f) => a + f.sent, 0)),
      n(families.reduce((a, f) => a + f.verified, 0)),
      n(families.reduce((a, f) => a + f.serverErrors, 0)),
      expected[kind],
    ];
  });
  const rows = [...m.families]
    .sort((a, b) => classes.indexOf(a.class) - classes.indexOf(b.class) || a.family.localeCompare(b.family))
    .map((f) => [
      f.family,
      f.class,
      n(f.sent),
      n(f.verified),
      n(f.serverErrors),
      statuses(f.statuses),
      statuses(f.codes.total() ? f.codes : f.outcomes),
    ]);
  const unchanged = m.families.reduce((a, f) => a + f.unchanged, 0);
  return `## 1. Mutated webhook deliveries

${n(m.families.reduce((a, f) => a + f.sent, 0))} deliveries in ${s(m.seconds)} (fast-check seed ${m.seed}; ${unchanged ? `${n(unchanged)} mutations that changed nothing were not sent` : "every mutation changed something"}).

${table(["class", "sent", "verified", "5xx", "expected"], byClass)}

${table(["family", "class", "sent", "verified", "5xx", "statuses", "error codes (or outcomes)"], rows)}

${
  m.violations.length
    ? `Violations (first ${m.violations.length}):\n\n${table(
        ["family", "status", "Stripe-Signature", "body", "answer"],
        m.violations.map((v) => [
          v.family,
          v.status,
          v.signature,
          v.body.slice(0, 120),
          v.answer.slice(0, 160),
        ]),
      )}\n`
    : "No violation: no forged delivery verified, no delivery answered 5xx."
}

How: each delivery starts from a fresh \`payout.updated\` event (bench/events.ts) for the org's connected account, signed with the org's
signing secret (${n(results.settings.webhookMutations)} planned header, body and transport mutations plus ${n(results.settings.resignedMutations)} re-signed ones, drawn by
fast-check from bench/reliability/mutations/, ${results.settings.concurrency} at a time over keep-alive HTTP, then every framing case 6 times over raw sockets).
"Verified" means a 2xx \`{ "received": true }\`. Forged: the signed bytes, the timestamp, the signature, the secret or the org changed.
Equivalent: the header still holds the valid \`t\` and \`v1\` among other items (Stripe's parser rules decide; either answer is safe).
Re-signed: a mutated body signed with the right secret, so the parser and the applier see it (an \`account.application.deauthorized\`
would disconnect the org's connection by design, so it is left out).`;
}

function graphqlSection(g: GraphQLFuzzResults & { causes: Tally }) {
  const missing = g.fieldsTotal - g.fieldsCovered.length;
  return `## 2. Property-based GraphQL inputs

${table(
  ["figure", "value"],
  [
    ["requests", `${n(g.requests)} in ${s(g.seconds)} (fast-check seed ${g.seed})`],
    ["by operation", statuses(g.byKind)],
    [
      "root fields covered",
      `${g.fieldsCovered.length} of ${g.fieldsTotal}${missing ? " (some not reached)" : ""}`,
    ],
    ["argument types generated", g.argumentTypes.join(", ")],
    ["credentials", statuses(g.credentials)],
    ["statuses", statuses(g.statuses)],
    ["5xx", n(g.serverErrorCount)],
    ["answers showing internals", `${n(g.leaks.total())}${g.leaks.total() ? ` (${statuses(g.leaks)})` : ""}`],
    ["answers showing another org's data", n(g.crossOrg)],
    [
      'masked "Unexpected error." answers',
      `${n(g.masked.total())}${g.masked.total() ? ` (${statuses(g.masked)})` : ""}`,
    ],
  ],
)}

Root fields: ${g.fieldsCovered.map((f) => `\`${f}\``).join(", ")}.
${
  g.causes.total()
    ? `\nWhat the gateway logged for the masked answers:\n\n${table(
        ["logged", "count"],
        Object.entries(g.causes.counts).map(([k, v]) => [k, n(v)]),
      )}\n`
    : ""
}${
  g.serverErrors.length
    ? `\n5xx or unanswered requests (first ${g.serverErrors.length}):\n\n${table(
        ["field", "status", "request", "answer"],
        g.serverErrors.map((e) => [
          e.field,
          e.status,
          e.request.slice(0, 200),
          `${e.answer.slice(0, 200)} ${e.detail ?? ""}`,
        ]),
      )}\n`
    : ""
}${
  g.leakExamples.length
    ? `\nAnswers showing internals (first ${g.leakExamples.length}):\n\n${table(
        ["field", "status", "match", "request"],
        g.leakExamples.map((e) => [e.field, e.status, e.detail ?? "", e.request.slice(0, 200)]),
      )}\n`
    : ""
}${
  g.crossOrgExamples.length
    ? `\nAnother org's data:\n\n${table(
        ["field", "what", "request"],
        g.crossOrgExamples.map((e) => [e.field, e.detail ?? "", e.request.slice(0, 200)]),
      )}\n`
    : ""
}
How: for each request fast-check picks a root field of the schema the gateway serves (queries, mutations, and subscriptions — two in
three over SSE, read for 400 ms, one with \`Accept: application/json\`), its arguments as variables or inline literals, and a selection up to 4 levels
deep whose nested fields take generated arguments too (bench/reliability/graphql/). Values: own ids, another org's ids, malformed and
type-confused global ids; strings with unicode, control characters, injections, up to 60 KB; Ints at and past 32 and 53 bits,
negative, fractional; invalid DateTimes; JSON 5,000 levels deep or 8,000 keys wide; invalid enum values; input objects with fields
missing, null or extra; lists empty, of 1,500 items or a single value; and in one value of 13, one of another type. Internals: stack
frames, file paths (\`/work/\`, \`node_modules\`, \`file://\`, \`*.ts:12\`), Prisma, SQL and driver messages, JavaScript error names,
\`stack\`/\`originalError\` fields — in headers or body, unless the request itself holds the matched text. Another org's data: its
account ids and org ids, which no request of this org contains. Credentials: mostly the org's API key, sometimes others.`;
}

function postgresSection(p: DatabaseOutageResults) {
  return `## 3. PostgreSQL stopped for ${p.downSeconds} s under webhook load

${periodsTable({ "webhook answers (every attempt)": p.webhooks, "GraphQL (every 500 ms)": p.graphql, "/readyz (every 500 ms)": p.readyz })}

${table(
  ["figure", "value"],
  [
    ["events sent", `${n(p.events.sent)} (${p.perSecond}/s)`],
    ["acknowledged (2xx) in the end", n(p.events.acknowledged)],
    ["stored / applied (event row, payout row) in the end", `${n(p.events.stored)} / ${n(p.events.applied)}`],
    ["lost", n(p.events.lost)],
    ["2xx for an event that was not stored", n(p.events.acknowledgedNotStored)],
    [
      "delivery attempts (retries included)",
      `${n(p.attempts.total)}, at most ${p.attempts.maxPerEvent} for one event`,
    ],
    [
      "events first sent while down: first attempt → 2xx",
      `${n(p.outageDelivery.events)} events, p50 ${s(p.outageDelivery.p50)}, p99 ${s(p.outageDelivery.p99)}, max ${s(p.outageDelivery.max)}`,
    ],
    ["first webhook 2xx after PostgreSQL was back", s(p.recovery.firstWebhook2xxSeconds)],
    ["first GraphQL answer without errors after that", s(p.recovery.firstGraphql200Seconds)],
    [
      "gateway process",
      p.recovery.samePid ? "the same one throughout (never restarted)" : `exited: ${p.recovery.exit}`,
    ],
    ["answers showing internals meanwhile", p.leaks.total() ? statuses(p.leaks) : "0"],
  ],
)}

How: a private PostgreSQL (initdb in a temp dir, its own port) is the gateway's database. Webhooks for a connected account arrive at
${p.perSecond}/s, each a new payout; a delivery not answered 2xx is sent again, newly signed, after 1 s, 2 s, 4 s, then every 8 s
(±10 %) until it is — Stripe's schedule, compressed. After 10 s PostgreSQL is stopped with \`pg_ctl stop -m immediate\` (a crash:
connections cut, no checkpoint), started again ${p.downSeconds} s later, and new events keep coming for 10 s more; then the retries drain.
"down" holds only the requests sent after the stop completed and answered before the start began; requests across either edge are
"transition". Lost: an event whose \`StripeEvent\` row is missing or not applied, or whose payout row is missing, in the database.`;
}

function redisSection(r: RedisOutageResults) {
  const periods = ["before", "down", "after", "transition"] as const;
  return `## 4. Redis killed for ${r.downSeconds} s and started again

${table(
  [
    "period",
    "webhook answers",
    "acknowledged on the first try",
    "heard by the local subscriber",
    "ack p50 / p99",
    "heard p99 (from sending)",
    "GraphQL",
    "/readyz",
  ],
  periods.map((period) => [
    period,
    statuses(r.webhooks[period]),
    n(r.byPeriod[period].acknowledged),
    n(r.byPeriod[period].heard),
    `${ms(r.byPeriod[period].ackP50Ms)} / ${ms(r.byPeriod[period].ackP99Ms)}`,
    ms(r.byPeriod[period].heardP99Ms),
    statuses(r.graphql[period]),
    statuses(r.readyz[period]),
  ]),
)}

/readyz reported Redis up again ${s(r.readyzRecoveredSeconds)} after it answered; the gateway was ${r.samePid ? "the same process throughout" : "restarted"}.
Answers showing internals meanwhile: ${r.leaks.total() ? statuses(r.leaks) : "0"}.

How: the gateway runs with \`REDIS_URL\` on a private redis-server (\`--save "" --appendonly no\`, its own port). A graphql-sse client
subscribes to \`payoutUpdated(connectionId)\` on the same instance and is ready once it hears a warm-up payout. Webhooks arrive at
${r.perSecond}/s (retried like Stripe if not 2xx); after 8 s Redis is killed with SIGKILL, started again on the same port
${r.downSeconds} s later, and the load goes on for 8 s after /readyz says Redis is up. Periods as in scenario 3.`;
}

function crashSection(c: CrashResults) {
  return `## 5. SIGKILL in the middle of a backfill

${table(
  ["figure", "value"],
  [
    ["account", `${n(c.objects)} objects at the emulator (every list and per-parent list)`],
    [
      "killed",
      `${s(c.killAt.seconds)} after the OAuth callback, connection ${c.killAt.status}, ${n(c.killAt.rows)} rows stored (${Math.round(c.killAt.fraction * 100)} % of the top-level lists)`,
    ],
    [
      "sync states at the kill",
      c.killAt.states.map((st) => `${st.resource} ${st.status} ${st.objectsSynced}`).join(", ") || "none yet",
    ],
    ["restarted process listening", s(c.restart.listeningSeconds)],
    [
      "backfill resumed (rows growing again)",
      `${s(c.restart.resumedSeconds)} after the restart (the killed process's lease on the connection, 60 s, must expire first)`,
    ],
    ["READY", `${s(c.restart.readySeconds)} after the restart`],
    ["every sync state done", `${s(c.restart.allDoneSeconds)} after the restart`],
    [
      "list pages fetched after the restart",
      `${n(c.pages.afterRestart)} (a backfill from scratch needs ${n(c.pages.freshBackfill)}): ${Object.entries(
        c.pages.byPath,
      )
        .map(([k, v]) => `${k} × ${v}`)
        .join(", ")}`,
    ],
    ["final status", c.finalStatus],
  ],
)}

${table(
  [
    "resource",
    "emulator objects",
    "rows",
    "distinct stripeIds",
    "missing",
    "extra",
    "rows at the kill",
    "sync state",
  ],
  c.resources.map((r) => [
    r.resource,
    n(r.emulator),
    n(r.rows),
    n(r.distinctIds),
    n(r.missing),
    n(r.extra),
    n(r.atKill),
    r.syncState,
  ]),
)}

How: a fresh gateway on its own database of the private PostgreSQL connects an emulator account of thousands of objects through the
real OAuth flow; once 30 % of the top-level lists are stored (counted in the database every 50 ms) the process gets SIGKILL. The same
command starts it again on the same database; rows, connection status and sync states are read from the database every 250 ms.
Expected ids come from listing every resource at the emulator as the backfill does (and each refunded fee's refunds).`;
}

function secretsSection(scan: ScanResults, logLevel: string) {
  return `## 6. Secrets in every log line and answer

${table(
  ["secret", "how many the run knew"],
  Object.entries(scan.secrets).map(([kind, count]) => [kind, n(count)]),
)}

${table(
  ["scanned", "lines", "MB"],
  scan.files.map((f) => [f.name, n(f.lines), (f.bytes / 1e6).toFixed(1)]),
)}

Matches in the answers that show a secret on purpose (exempt; they show the scan finds what is there): ${n(scan.shownOnPurpose)}.

Occurrences found: **${n(scan.total)}**${
    scan.occurrences.length
      ? ` (secrets masked below):\n\n${table(
          ["secret", "whose", "where", "line", "excerpt"],
          scan.occurrences.map((o) => [o.kind, o.label, o.file, o.line, o.excerpt]),
        )}`
      : "."
  }

How: every answer of the run (status, headers and body of each HTTP answer from a gateway, each server-sent event, each raw-socket
answer) is kept one per line, and every gateway process's stdout and stderr (pino at \`LOG_LEVEL=${logLevel}\`) goes to a file. Each
line is searched for every secret whole and for its first and last 16 characters after its prefix (${n(scan.needles)} strings).
The single answer that shows a secret on purpose (createOrg's key, the authorization URL's state, createAccessToken's token) is
exempt for that secret. OAuth codes and tokens are read from the emulator's own answers as it issues them.`;
}

function errorsSection(results: RunResults) {
  const rows = results.errorsLogged.flatMap(({ gateway, lines }) =>
    Object.entries(lines.counts)
      .sort(([, a], [, b]) => b - a)
      .slice(0, 12)
      .map(([line, count]) => [gateway, line, n(count)]),
  );
  return `## What the gateways logged at error level

${rows.length ? table(["gateway", "message", "lines"], rows) : "Nothing."}

(Expected while PostgreSQL was down: "stripe webhook not stored", failed sync ticks; these are not defects by themselves.)`;
}

export function renderReport(results: RunResults, secrets: Secret[]): string {
  const all = checks(results);
  const section = <T>(phase: PhaseOutcome<T> | undefined, title: string, render: (value: T) => string) =>
    !phase
      ? `## ${title}\n\nNot run.`
      : phase.ok
        ? `${render(phase.value)}\n\nPhase time ${s(phase.seconds)} (deadline ${phase.deadlineSeconds} s${phase.cutShort ? ", reached: the phase was cut short" : ""}).`
        : `## ${title}\n\nFailed after ${s(phase.seconds)}: ${phase.error}`;
  const text = `# Reliability

Written by \`npm run bench:reliability\` (bench/reliability.ts). Run finished ${results.finished ?? "?"}; it took ${s(results.seconds ?? 0, 0)}
(${results.machine ?? ""}). Loopback only: the gateway under test is \`src/main.ts\` in its own process
(NODE_ENV=production, LOG_LEVEL=${results.settings.logLevel}, rate limits set far above the run's load), beside the project's Stripe
emulator in another; PostgreSQL ${results.infrastructure ? `on ${results.infrastructure.postgresPort}` : ""} and Redis ${results.infrastructure ? `on ${results.infrastructure.redisPort}` : ""} are private instances started for the run.
${results.fatal ? `\n**The run stopped early: ${results.fatal}**\n` : ""}
${table(
  ["scenario", "check", "figure", "passed"],
  all.map((c) => [c.scenario, c.name, c.figure, c.passed ? "yes" : "**NO**"]),
)}

${results.notes.join("\n")}

${FINDINGS}

${section(results.mutations, "1. Mutated webhook deliveries", (m) => mutationsSection(m, results))}

${section(results.graphql, "2. Property-based GraphQL inputs", graphqlSection)}

${section(results.postgres, "3. PostgreSQL stopped", postgresSection)}

${section(results.redis, "4. Redis killed", redisSection)}

${section(results.crash, "5. SIGKILL mid-backfill", crashSection)}

${section(results.secrets, "6. Secrets", (scan) => secretsSection(scan, results.settings.logLevel))}

${errorsSection(results)}
`;
  let masked = text;
  for (const secret of secrets) masked = masked.replaceAll(secret.value, `<${secret.kind}>`);
  return masked;
}
