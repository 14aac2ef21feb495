/**
 * npm run bench:reliability — how the gateway holds under abuse and faults, measured against the real
 * gateway (src/main.ts in its own process) and the project's Stripe emulator, on loopback only, with a
 * private PostgreSQL and Redis (never the machine's shared ones). Six scenarios, each with a deadline:
 * mutated webhook deliveries, property-based GraphQL inputs, Redis killed, PostgreSQL stopped for 30 s,
 * SIGKILL mid-backfill, and a scan of every log line and answer for every secret. Writes
 * bench/RELIABILITY.md; exits 1 when a check fails. Sizes: bench/reliability/settings.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { type Child, startChild } from "./child.ts";
import { runCrashBackfill } from "./reliability/crash-backfill.ts";
import { loadSchema, mintApiKey, mintBrowserToken } from "./reliability/credentials.ts";
import { runDatabaseOutage } from "./reliability/database-outage.ts";
import { ADMIN_KEY, ENCRYPTION_KEY, gatewayEnv } from "./reliability/gateway-env.ts";
import { type GatewayProcess, startGateway } from "./reliability/gateway-process.ts";
import { runGraphQLFuzz } from "./reliability/graphql-inputs.ts";
import { createHttp, createTranscript } from "./reliability/http.ts";
import { causesOf, errorLines } from "./reliability/log-lines.ts";
import { elapsedSeconds, runPhase, step } from "./reliability/phases.ts";
import { fuzzPools } from "./reliability/pools.ts";
import { startPrivatePostgres } from "./reliability/postgres.ts";
import { cleanupAll } from "./reliability/processes.ts";
import { startPrivateRedis } from "./reliability/redis.ts";
import { runRedisOutage } from "./reliability/redis-outage.ts";
import { checks, type RunResults, renderReport } from "./reliability/report.ts";
import { SecretRegistry } from "./reliability/secrets.ts";
import { scanForSecrets } from "./reliability/secrets-scan.ts";
import type { EmulatorInfo, IssuedSecret } from "./reliability/servers/emulator.ts";
import { settings } from "./reliability/settings.ts";
import { setUpOrg, waitForStatus } from "./reliability/setup.ts";
import { runWebhookMutations } from "./reliability/webhook-mutations.ts";
import { SIGNING_SECRET } from "./reliability/webhook-signing.ts";

const loadBefore = loadavg()[0]!;
const runDir = await mkdtemp(path.join(tmpdir(), "reliability-run-"));
const logFile = (name: string) => path.join(runDir, name);
const transcript = createTranscript(logFile("answers.jsonl"));
const http = createHttp(transcript);
const secrets = new SecretRegistry();
secrets.add("admin API key", "ADMIN_API_KEY", ADMIN_KEY);
secrets.add("ENCRYPTION_KEY", "base64", ENCRYPTION_KEY.toString("base64"));
secrets.add("ENCRYPTION_KEY", "hex", ENCRYPTION_KEY.toString("hex"));
secrets.add("ENCRYPTION_KEY", "base64url", ENCRYPTION_KEY.toString("base64url"));
const gateways: GatewayProcess[] = [];
const emulators: Child<EmulatorInfo>[] = [];
const results: RunResults = { settings, notes: [], errorsLogged: [] };

const watchdog = setTimeout(() => {
  console.error(`the run passed its ${settings.runDeadlineSeconds} s deadline: stopping`);
  void cleanupAll().then(() => process.exit(2));
}, settings.runDeadlineSeconds * 1000);
watchdog.unref();
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => void cleanupAll().then(() => process.exit(130)));

const startEmulator = async (env: Record<string, string>) => {
  const emulator = await startChild<EmulatorInfo>("../reliability/servers/emulator.ts", env, 120_000);
  emulators.push(emulator);
  secrets.add(
    "Stripe secret key",
    "the emulator platform's, given to setStripeConfig",
    emulator.info.secretKey,
  );
  return emulator;
};

try {
  const infrastructure = await runPhase("private PostgreSQL and Redis", 120, async () => {
    const postgres = await startPrivatePostgres(settings.postgresPort);
    const redis = await startPrivateRedis(settings.redisPort);
    return { postgres, redis, databaseA: "gateway_a", databaseC: "gateway_c" };
  });
  if (!infrastructure.ok) throw new Error(`private servers: ${infrastructure.error}`);
  const { postgres, redis } = infrastructure.value;
  results.infrastructure = { postgresPort: postgres.port, redisPort: redis.port };
  await postgres.createDatabase(infrastructure.value.databaseA);
  await postgres.createDatabase(infrastructure.value.databaseC);

  const setup = await runPhase("emulator, gateway A and three orgs", 240, async () => {
    const emulator = await startEmulator({ RELIABILITY_EMULATOR_ACCOUNTS: "3" });
    const gateway = await startGateway(
      "A",
      gatewayEnv({
        databaseUrl: postgres.url(infrastructure.value.databaseA),
        redisUrl: redis.url,
        stripeUrl: emulator.info.url,
        logLevel: settings.logLevel,
      }),
      logFile("gateway-a.log"),
    );
    gateways.push(gateway);
    const org = (name: string, signingSecret: string, account: number) =>
      setUpOrg(http, gateway.url, emulator.info, secrets, {
        name,
        adminKey: ADMIN_KEY,
        signingSecret,
        account: emulator.info.accountIds[account]!,
        waitReady: false,
      });
    // One at a time: the emulator's "next account to approve" is shared.
    const mutations = await org("reliability-mutations", SIGNING_SECRET, 0);
    const fuzz = await org("reliability-fuzz", `whsec_${randomBytes(24).toString("hex")}`, 1);
    const load = await org("reliability-load", `whsec_${randomBytes(24).toString("hex")}`, 2);
    await Promise.all(
      [mutations, fuzz, load].map((world) => waitForStatus(http, gateway.url, world, "READY", 180_000)),
    );
    const { schema, source } = await loadSchema();
    const fuzzToken = await mintBrowserToken(http, gateway.url, schema, fuzz, secrets);
    const loadToken = await mintBrowserToken(http, gateway.url, schema, load, secrets);
    const secondKey = await mintApiKey(http, gateway.url, schema, load, secrets);
    results.notes.push(
      `Schema read from ${source}: createAccessToken ${fuzzToken ? "present (browser tokens minted and scanned for)" : "absent (no browser tokens in this run)"}, createApiKey ${secondKey ? "present" : "absent"}.`,
    );
    if (loadToken) {
      // The browser token travels through a query and a subscription, so its handling is in the logs.
      await http.graphql(gateway.url, loadToken, {
        query:
          "query($id: ID!) { stripeConnection(id: $id) { payouts(first: 3) { edges { node { id } } } } }",
        variables: { id: load.connectionId },
      });
      await http.graphql(
        gateway.url,
        loadToken,
        { query: "subscription { payoutUpdated { id } }" },
        { headers: { accept: "text/event-stream" }, streamMs: 1_000 },
      );
    }
    if (secondKey) await http.graphql(gateway.url, secondKey, { query: "{ viewer { id } }" });
    return { emulator, gateway, schema, mutations, fuzz, load, fuzzToken };
  });
  if (!setup.ok) throw new Error(`setup: ${setup.error}`);
  const { gateway, schema, mutations, fuzz, load, fuzzToken } = setup.value;
  results.setupSeconds = setup.seconds;

  const wanted = (scenario: string) => settings.only.has(scenario);
  if (wanted("1"))
    results.mutations = await runPhase("1. mutated webhook deliveries", 150, (signal) =>
      runWebhookMutations(
        { http, transcript, gateway: gateway.url, org: mutations, other: fuzz, seed: settings.seed },
        {
          mutations: settings.webhookMutations,
          resigned: settings.resignedMutations,
          concurrency: settings.concurrency,
        },
        signal,
      ),
    );

  if (wanted("2"))
    results.graphql = await runPhase("2. property-based GraphQL inputs", 180, async (signal) => {
      const pools = await fuzzPools(http, gateway.url, fuzz, [mutations, load]);
      const key = (label: string, authorization: string | null, weight: number) => ({
        credential: { label, authorization },
        weight,
      });
      const fuzzed = await runGraphQLFuzz(
        {
          http,
          gateway: gateway.url,
          schema,
          pools,
          credentials: [
            key("org API key", `Bearer ${fuzz.apiKey}`, 16),
            ...(fuzzToken ? [key("browser access token", `Bearer ${fuzzToken}`, 3)] : []),
            key("admin key", `Bearer ${ADMIN_KEY}`, 1),
            key("none", null, 1),
            key("malformed", "Basic dXNlcjpwYXNz", 1),
            key("unknown key", `Bearer cgw_key_${"0".repeat(40)}`, 1),
          ],
          foreignMarkers: [mutations, load].flatMap((world) => [world.account, world.orgId]),
          seed: settings.seed,
        },
        { requests: settings.graphqlRequests, concurrency: settings.concurrency },
        signal,
      );
      return { ...fuzzed, causes: await causesOf(gateway.logFile, new Set(fuzzed.maskedRequestIds)) };
    });

  if (wanted("4"))
    results.redis = await runPhase("4. Redis killed and started again", 120, () =>
      runRedisOutage(
        { http, transcript, gateway, org: load, redis },
        { perSecond: settings.webhookRate, downSeconds: settings.redisDownSeconds },
      ),
    );

  if (wanted("3"))
    results.postgres = await runPhase(
      "3. PostgreSQL stopped under webhook load",
      60 + settings.postgresDownSeconds + 60,
      () =>
        runDatabaseOutage(
          { http, gateway, org: load, postgres, database: infrastructure.value.databaseA },
          { perSecond: settings.webhookRate, downSeconds: settings.postgresDownSeconds },
        ),
    );
  await gateway.stop();

  if (wanted("5"))
    results.crash = await runPhase(
      "5. SIGKILL mid-backfill, restart on the same database",
      300,
      async (signal) => {
        const emulator = await startEmulator({
          RELIABILITY_EMULATOR_ACCOUNTS: "1",
          RELIABILITY_EMULATOR_PAYOUTS: String(settings.crashPayouts),
          RELIABILITY_EMULATOR_CHARGES: String(settings.crashCharges),
        });
        return runCrashBackfill(
          {
            http,
            postgres,
            database: infrastructure.value.databaseC,
            emulator,
            env: gatewayEnv({
              databaseUrl: postgres.url(infrastructure.value.databaseC),
              stripeUrl: emulator.info.url,
              logLevel: settings.logLevel,
            }),
            logFile,
            secrets,
            adminKey: ADMIN_KEY,
            onGateway: (started) => gateways.push(started),
          },
          { killFraction: 0.3 },
          signal,
        );
      },
    );
  for (const started of gateways) await started.stop();

  results.secrets = await runPhase("6. secrets in every log line and answer", 120, async () => {
    for (const emulator of emulators)
      for (const issued of await emulator.call<IssuedSecret[]>("issued"))
        secrets.add(issued.kind, "issued by the emulator", issued.value);
    await transcript.close();
    return scanForSecrets(secrets.list(), [
      { name: "every answer of the run", path: transcript.file, kind: "answers" },
      ...gateways.map((started) => ({
        name: `gateway ${started.name} log`,
        path: started.logFile,
        kind: "log" as const,
      })),
    ]);
  });
  for (const started of gateways)
    results.errorsLogged.push({ gateway: started.name, lines: await errorLines(started.logFile) });
} catch (error) {
  results.fatal = error instanceof Error ? error.message : String(error);
  step(`run stopped: ${results.fatal}`);
} finally {
  for (const emulator of emulators) await emulator.stop().catch(() => {});
  await cleanupAll();
  http.close();
}

results.seconds = elapsedSeconds();
results.machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}; load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`;
results.finished = new Date().toISOString();
const report = renderReport(results, secrets.list());
await writeFile(new URL("./RELIABILITY.md", import.meta.url), report);
const failed = checks(results).filter((check) => !check.passed);
for (const check of checks(results))
  console.log(`${check.passed ? "ok  " : "FAIL"} ${check.name}: ${check.figure}`);
step(
  `wrote bench/RELIABILITY.md in ${results.seconds.toFixed(0)} s${failed.length ? `; ${failed.length} check(s) failed` : ""}`,
);
if (!process.env.RELIABILITY_KEEP_LOGS) await rm(runDir, { recursive: true, force: true });
else console.log(`logs and answers kept in ${runDir}`);
process.exit(failed.length || results.fatal ? 1 : 0);
