#!/usr/bin/env -S npx tsx
// Command-line entry point: `npm run cli -- <command>`. Like main.ts, it reads the environment itself.
import { Command } from "commander";
import { ConfigError, loadConfig } from "./config.ts";
import { runDemo } from "./demo.ts";
import { createDeps, type Deps } from "./deps.ts";
import { runEmulatorCli } from "./emulator/cli.ts";
import { createLogger } from "./logger.ts";
import { createManifestCommand } from "./manifest/cli.ts";
import { createOrg, orgRedirectUri, orgWebhookUrl } from "./orgs/orgs.ts";

async function withDeps<T>(run: (deps: Deps) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env);
  // Logs go to stderr so that stdout carries only the command's output.
  const deps = await createDeps(config, {
    logger: createLogger({ level: "warn", destination: process.stderr }),
    databaseRole: "command",
  });
  try {
    return await run(deps);
  } finally {
    await deps.close();
  }
}

const program = new Command("stripe-gateway").description("Stripe Connect Gateway").showHelpAfterError();

const org = program.command("org").description("manage orgs");
org
  .command("create")
  .description("create an org and print its API key (shown once)")
  .requiredOption("--name <name>", "the org's name")
  .option("--json", "print JSON")
  .action(async (options: { name: string; json?: boolean }) => {
    await withDeps(async (deps) => {
      const { org: created, apiKey } = await createOrg(deps.db.prisma, { name: options.name });
      const result = {
        orgId: created.id,
        name: created.name,
        apiKey,
        redirectUri: orgRedirectUri(deps.config.publicUrl, created.id),
        webhookUrl: orgWebhookUrl(deps.config.publicUrl, created.id),
      };
      if (options.json) console.log(JSON.stringify(result, null, 2));
      else {
        console.log(`Created org ${result.name} (${result.orgId})`);
        console.log(`API key (shown once, store it now): ${result.apiKey}`);
        console.log(`Redirect URI: ${result.redirectUri}`);
        console.log(`Webhook URL:  ${result.webhookUrl}`);
      }
    });
  });

program
  .command("migrate")
  .description("apply pending database migrations (the gateway also does this at start-up)")
  .action(async () => {
    await withDeps(async (deps) => console.log(`database is up to date (${deps.db.kind})`));
  });

program.addCommand(createManifestCommand(() => loadConfig(process.env).publicUrl));

program
  .command("emulator")
  .description("start the local Stripe emulator (see docs/emulator.md; --help lists its options)")
  .helpOption(false)
  .allowUnknownOption()
  .argument("[options...]")
  .action(async (args: string[]) => {
    const started = await runEmulatorCli(args);
    if (started) await waitForSignal(() => started.close());
  });

program
  .command("demo")
  .description(
    "start the emulator and an in-memory gateway with a configured org and webhook endpoint; prints a connect link and a command that pays a payout",
  )
  .option("--port <port>", "gateway port", "4000")
  .option("--emulator-port <port>", "emulator port", "12111")
  .option("--seed <seed>", "emulator data seed", "demo")
  .action(async (options: { port: string; emulatorPort: string; seed: string }) => {
    const demo = await runDemo({
      port: Number(options.port),
      emulatorPort: Number(options.emulatorPort),
      seed: options.seed,
    });
    await waitForSignal(() => demo.close());
  });

/** Whatever a long-running command still has open when stopped, it exits after this long. */
const STOP_DEADLINE_MS = 15_000;

/** Keeps a long-running command alive until SIGINT/SIGTERM, then cleans up (within STOP_DEADLINE_MS). */
function waitForSignal(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    // A Ctrl-C reaches both npm and this process, and npm forwards it: one signal may arrive twice.
    const stop = () => {
      if (stopping) return;
      stopping = true;
      setTimeout(() => {
        console.error(`error: did not stop within ${STOP_DEADLINE_MS / 1000} s; exiting anyway`);
        process.exit(1);
      }, STOP_DEADLINE_MS).unref();
      close().then(resolve, (error: unknown) => {
        console.error(`error: stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

program.parseAsync(process.argv).then(
  // `manifest check` sets process.exitCode; exit now rather than wait for idle sockets to time out.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    const message =
      error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}`);
    process.exit(1);
  },
);
