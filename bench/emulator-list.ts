/**
 * How many Stripe list pages (limit=100) the emulator serves per second over real HTTP, against the
 * gateway sync's budget of 12.5 requests/second per test account. Target: at least 10× that budget.
 * The emulator runs in a child process so the client loop does not steal its event loop.
 * Run: npx tsx bench/emulator-list.ts   (stops by itself in about 20 s)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Agent, request } from "node:http";

const SYNC_BUDGET = 12.5;
const TARGET_RATIO = 10;
const CONCURRENCY = 8;
const ROUND_MS = 4000;
const ROUNDS = 3;

function startEmulator(): Promise<{ child: ChildProcess; url: string; key: string; account: string }> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/emulator/cli.ts",
      "--port",
      "0",
      "--seed",
      "bench",
      "--size",
      "medium",
      "--accounts",
      "1",
      "--no-rate-limit",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`emulator did not start:\n${output}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (\S+)/.exec(output)?.[1];
      const key = /secret key\s+(sk_test_\S+)/.exec(output)?.[1];
      const account = /^\s+(acct_\S+)\s/m.exec(output)?.[1];
      if (url && key && account && output.includes("Control API")) {
        clearTimeout(timer);
        resolve({ child, url, key, account });
      }
    });
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code}:\n${output}`)));
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Requests per second of `paths` (round-robin) with CONCURRENCY workers for `ms`. */
async function measure(base: string, headers: Record<string, string>, paths: string[], ms: number) {
  let next = 0;
  let done = 0;
  let failures = 0;
  const deadline = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const path = paths[next++ % paths.length] as string;
        const { status } = await get(`${base}${path}`, headers);
        if (status === 200) done++;
        else failures++;
      }
    }),
  );
  if (failures > 0) throw new Error(`${failures} requests failed`);
  return done / ((performance.now() - started) / 1000);
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const emulator = await startEmulator();
try {
  const headers = { authorization: `Bearer ${emulator.key}`, "stripe-account": emulator.account };
  // Every page of the account's balance transactions, as the sync walks them.
  const paths: string[] = [];
  const ids: string[] = [];
  let cursor = "";
  for (;;) {
    const path = `/v1/balance_transactions?limit=100${cursor}`;
    paths.push(path);
    const page = JSON.parse((await get(`${emulator.url}${path}`, headers)).body) as {
      data: Array<{ id: string }>;
      has_more: boolean;
    };
    ids.push(...page.data.map((txn) => txn.id));
    if (!page.has_more) break;
    cursor = `&starting_after=${page.data.at(-1)?.id}`;
  }
  await measure(emulator.url, headers, paths, 2000); // warm-up
  const rounds: number[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await measure(emulator.url, headers, paths, ROUND_MS));
  // Baseline from the same run: retrieving single objects through the same stack.
  const retrievals = ids.slice(0, 200).map((id) => `/v1/balance_transactions/${id}`);
  const baseline = await measure(emulator.url, headers, retrievals, 2000);
  const pagesPerSecond = median(rounds);
  const ratio = pagesPerSecond / SYNC_BUDGET;
  console.log(`pages in the walk: ${paths.length} (limit=100, balance transactions of one account)`);
  console.log(
    `list pages/s, median of ${ROUNDS}: ${pagesPerSecond.toFixed(1)} (rounds ${rounds.map((r) => r.toFixed(1)).join(", ")})`,
  );
  console.log(
    `baseline (single-object retrieve) req/s: ${baseline.toFixed(1)}; a page costs ${(baseline / pagesPerSecond).toFixed(1)}× a retrieve`,
  );
  console.log(
    `ratio to the sync budget (${SYNC_BUDGET} req/s): ${ratio.toFixed(1)}× — ${ratio >= TARGET_RATIO ? "OK" : "FAIL"} (target ≥ ${TARGET_RATIO}×)`,
  );
  process.exitCode = ratio >= TARGET_RATIO ? 0 : 1;
} finally {
  agent.destroy();
  emulator.child.kill("SIGTERM");
}
