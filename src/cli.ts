#!/usr/bin/env -S npx tsx
// Command-line entry point: `npm run cli -- <command>`. Like main.ts, it reads the environment itself.
import { Command } from "commander";
import { ConfigError, loadConfig } from "./config.ts";
import { createDeps, type Deps } from "./deps.ts";
import { createLogger } from "./logger.ts";
import { createManifestCommand } from "./manifest/cli.ts";
import { createOrg, orgRedirectUri, orgWebhookUrl } from "./orgs/orgs.ts";

async function withDeps<T>(run: (deps: Deps) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env);
  // Logs go to stderr so that stdout carries only the command's output.
  const deps = await createDeps(config, {
    logger: createLogger({ level: "warn", destination: process.stderr }),
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

program.parseAsync(process.argv).then(
  // PGlite resets process.exitCode when it closes, so exit explicitly; `manifest check` sets it.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    const message =
      error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}`);
    process.exit(1);
  },
);
