import { readFile, writeFile } from "node:fs/promises";
import { Command, InvalidArgumentError } from "commander";
import type { z } from "zod";
import { orgRedirectUri } from "../orgs/orgs.ts";
import { checkStripeAppManifest } from "./check.ts";
import { generateStripeAppManifest } from "./generate.ts";
import { appIdSchema, appNameSchema, appVersionSchema, orgIdSchema } from "./options.ts";

type Output = { out(line: string): void; err(line: string): void };
const consoleOutput: Output = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** Exit codes of `manifest check`. */
const CHECK_OK = 0;
const CHECK_PROBLEMS = 1;
const CHECK_UNREADABLE = 2;

function parsedBy(schema: z.ZodType<string>) {
  return (value: string) => {
    const result = schema.safeParse(value);
    if (!result.success) throw new InvalidArgumentError(result.error.issues[0]?.message ?? "invalid value");
    return result.data;
  };
}

// Stripe rejects http redirect URIs for live mode; say so once, without failing the command.
function warnIfNotHttps(redirectUri: string, io: Output): void {
  if (!redirectUri.startsWith("https://")) {
    io.err(
      `note: ${redirectUri} is not https; Stripe requires https redirect URIs in live mode. Set PUBLIC_URL to the gateway's https address (a tunnel for local work).`,
    );
  }
}

/**
 * `manifest generate` and `manifest check`: no database, only the org id and PUBLIC_URL (read
 * through the `publicUrl` callback, so a bad environment fails only when a command runs).
 */
export function createManifestCommand(publicUrl: () => string, io: Output = consoleOutput): Command {
  const manifest = new Command("manifest").description("generate or check the org's stripe-app.json");
  const orgIdOption = [
    "--org-id <id>",
    "the org's id (org_…, or its GraphQL id)",
    parsedBy(orgIdSchema),
  ] as const;

  manifest
    .command("generate")
    .description("write stripe-app.json for the org and print the permission grant commands")
    .requiredOption(...orgIdOption)
    .option("--app-id <id>", "app id, globally unique on Stripe", parsedBy(appIdSchema))
    .option("--name <name>", "app name merchants see", parsedBy(appNameSchema))
    .option("--version <version>", "app version", parsedBy(appVersionSchema))
    .option("--out <file>", 'where to write the manifest ("-" for stdout)', "stripe-app.json")
    .action(
      async (options: { orgId: string; appId?: string; name?: string; version?: string; out: string }) => {
        const redirectUri = orgRedirectUri(publicUrl(), options.orgId);
        const { appId, name, version } = options;
        const generated = generateStripeAppManifest({ redirectUri, appId, name, version });
        if (options.out === "-") {
          io.out(generated.text.trimEnd());
          warnIfNotHttps(redirectUri, io);
          return;
        }
        await writeFile(options.out, generated.text);
        io.out(`Wrote ${options.out} for org ${options.orgId} (redirect URI ${redirectUri}).`);
        io.out("It lists the permissions already; to grant them one by one in an existing app instead, run:");
        for (const command of generated.grantCommands) io.out(`  ${command}`);
        warnIfNotHttps(redirectUri, io);
      },
    );

  manifest
    .command("check")
    .description("check a stripe-app.json for the org: one line per problem; exit 0 only when it is right")
    .argument("<file>", "the stripe-app.json to check")
    .requiredOption(...orgIdOption)
    .action(async (file: string, options: { orgId: string }) => {
      process.exitCode = await runCheck(file, orgRedirectUri(publicUrl(), options.orgId), io);
    });

  return manifest;
}

/** Checks one file and prints the outcome; returns the exit code. */
async function runCheck(file: string, redirectUri: string, io: Output): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    io.err(
      `error: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
    return CHECK_UNREADABLE;
  }
  const problems = checkStripeAppManifest(text, { redirectUri });
  for (const item of problems) {
    io.out(`${file}: ${item.path || "(file)"}: ${item.message} Fix: ${item.fix}`);
  }
  if (problems.length > 0) {
    io.out(`${problems.length} ${problems.length === 1 ? "problem" : "problems"} in ${file}.`);
    return CHECK_PROBLEMS;
  }
  io.out(`${file} is right for redirect URI ${redirectUri}.`);
  warnIfNotHttps(redirectUri, io);
  return CHECK_OK;
}
