import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createEmulator, type Emulator, type RunningEmulator } from "./create-emulator.ts";
import { DATASET_SIZES, type DatasetSize } from "./dataset.ts";
import type { OAuthDecision } from "./state.ts";

const USAGE = `Usage: emulator [options]

Starts a local Stripe emulator (REST API, Stripe Apps and Connect OAuth, webhooks).

Options:
  --port <n>              port to listen on (default 12111)
  --host <host>           address to bind (default 127.0.0.1)
  --seed <text>           seed of the generated data, keys and ids (default stripe-emulator)
  --accounts <n>          connected accounts to generate (default 3)
  --size <size>           tiny | small | medium | large (default small)
  --days <n>              days of history (default 180)
  --decision <d>          OAuth decision: approve | deny | page (default page)
  --redirect-uri <uri>    allowed OAuth redirect URI (repeatable; a trailing * matches a prefix)
  --webhook-url <url>     register a Connect webhook endpoint
  --webhook-secret <s>    its signing secret (whsec_…; generated when omitted)
  --rate-limit <t,l>      requests/second per account in test,live mode (default 25,100)
  --no-rate-limit         disable the rate limit
  -h, --help              show this help`;

export interface EmulatorCliResult {
  emulator: Emulator;
  server: RunningEmulator;
  close(): Promise<void>;
}

function fail(message: string): never {
  throw new Error(`${message}\n\n${USAGE}`);
}

/** Starts the emulator from command-line arguments and prints keys, accounts and gateway settings. */
export async function runEmulatorCli(
  argv: string[],
  log: (line: string) => void = console.log,
): Promise<EmulatorCliResult | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", default: "12111" },
      host: { type: "string", default: "127.0.0.1" },
      seed: { type: "string", default: "stripe-emulator" },
      accounts: { type: "string", default: "3" },
      size: { type: "string", default: "small" },
      days: { type: "string", default: "180" },
      decision: { type: "string", default: "page" },
      "redirect-uri": { type: "string", multiple: true },
      "webhook-url": { type: "string" },
      "webhook-secret": { type: "string" },
      "rate-limit": { type: "string" },
      "no-rate-limit": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    log(USAGE);
    return undefined;
  }
  const port = Number(values.port);
  const accounts = Number(values.accounts);
  const days = Number(values.days);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`Invalid --port: ${values.port}`);
  if (!Number.isInteger(accounts) || accounts < 1) fail(`Invalid --accounts: ${values.accounts}`);
  if (!(values.size in DATASET_SIZES)) fail(`Invalid --size: ${values.size}`);
  if (!["approve", "deny", "page"].includes(values.decision)) fail(`Invalid --decision: ${values.decision}`);
  let rateLimits: { test: number; live: number } | false | undefined;
  if (values["no-rate-limit"]) rateLimits = false;
  else if (values["rate-limit"]) {
    const [test, live] = values["rate-limit"].split(",").map(Number);
    if (!test || !live) fail(`Invalid --rate-limit: ${values["rate-limit"]}`);
    rateLimits = { test, live };
  }
  const webhookUrl = values["webhook-url"];
  const emulator = createEmulator({
    seed: values.seed,
    accounts,
    size: values.size as DatasetSize,
    days,
    rateLimits,
    oauthDecision: values.decision as OAuthDecision,
    platforms: [{ redirectUris: values["redirect-uri"] }],
  });
  // Registered here rather than through options so the operator sees the (possibly generated) secret.
  const endpoint = webhookUrl
    ? emulator.control.addWebhookEndpoint({ url: webhookUrl, secret: values["webhook-secret"] })
    : undefined;
  const server = await emulator.listen(port, values.host);
  const url = values.host === "0.0.0.0" ? server.url.replace("0.0.0.0", "127.0.0.1") : server.url;
  printSummary(emulator, url, log);
  if (endpoint) log(`\nWebhook endpoint ${endpoint.url}, signing secret ${endpoint.secret}`);
  return { emulator, server, close: () => emulator.close() };
}

function printSummary(emulator: Emulator, url: string, log: (line: string) => void): void {
  const info = emulator.control.info();
  log(`Stripe emulator listening on ${url}`);
  for (const platform of emulator.platforms) {
    log("");
    log(`Platform "${platform.name}" (${platform.id})`);
    for (const mode of ["test", "live"] as const) {
      const keys = platform.keys[mode];
      log(`  ${mode} mode`);
      log(`    secret key       ${keys.secretKey}`);
      log(`    restricted key   ${keys.restrictedKey}`);
      log(`    publishable key  ${keys.publishableKey}`);
      log(`    OAuth client id  ${keys.clientId}`);
      log(`    install link     ${url}/oauth/v2/authorize?client_id=${keys.clientId}`);
    }
    log(`  custom authorization URL (external test): ${url}/oauth/v2/${platform.oauthLinks[0]}/authorize`);
    log(`  allowed redirect URIs: ${platform.redirectUris.join(", ")}`);
  }
  log("");
  log("Connected accounts");
  for (const account of info.accounts)
    log(`  ${account.id}  ${account.name} (${account.country}, ${account.default_currency})`);
  log("");
  log("Point the gateway at it:");
  log(`  STRIPE_API_URL=${url}`);
  log(`  STRIPE_CONNECT_URL=${url}`);
  log(`  STRIPE_MARKETPLACE_URL=${url}`);
  log("");
  log(`Control API: ${url}/_emulator (see docs/emulator.md)`);
}

// Run directly: `npx tsx src/emulator/cli.ts --port 12111`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runEmulatorCli(process.argv.slice(2)).then(
    (started) => {
      if (!started) return;
      const stop = () => void started.close().then(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
