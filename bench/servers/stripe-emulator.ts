// The project's Stripe emulator in its own process, for bench/cost.ts: the same emulator `npm run cli --
// emulator` starts (createEmulator with the CLI's defaults: small accounts, 25/100 requests/s per account),
// served on loopback with a count of the requests it answered, by path, which the parent reads over IPC
// (`counts`) to know how many polls the gateway made in a window. OAuth approves at once (the CLI's
// `--decision approve`); the parent picks each approval's account with POST /_emulator/oauth.
//   BENCH_EMULATOR_ACCOUNTS       connected accounts (default 200)
//   BENCH_EMULATOR_SIZE           tiny | small | medium | large (default small)
//   BENCH_EMULATOR_REDIRECT_URI   the allowed OAuth redirect URI (a trailing * matches a prefix)
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { createEmulator } from "../../src/emulator/create-emulator.ts";
import type { DatasetSize } from "../../src/emulator/dataset.ts";
import { loopbackUrl, serveParent } from "../child.ts";

export type EmulatorInfo = {
  url: string;
  accountIds: string[];
  /** The platform's test-mode keys (what an org's setStripeConfig takes) */
  secretKey: string;
  clientId: string;
  generatedSeconds: number;
  /** This process (its CPU is read from /proc) */
  pid: number;
};

/** Requests answered, by kind; `rateLimited`: answered 429. */
export type EmulatorCounts = {
  events: number;
  balance: number;
  oauth: number;
  other: number;
  control: number;
  rateLimited: number;
};

const started = performance.now();
const emulator = createEmulator({
  seed: "bench-cost",
  accounts: Number(process.env.BENCH_EMULATOR_ACCOUNTS ?? 200),
  size: (process.env.BENCH_EMULATOR_SIZE ?? "small") as DatasetSize,
  oauthDecision: "approve",
  platforms: [
    { redirectUris: [process.env.BENCH_EMULATOR_REDIRECT_URI ?? "http://127.0.0.1:4000/stripe/proxy/*"] },
  ],
});
const generatedSeconds = (performance.now() - started) / 1000;

const counts: EmulatorCounts = { events: 0, balance: 0, oauth: 0, other: 0, control: 0, rateLimited: 0 };
const kind = (path: string): keyof EmulatorCounts =>
  path === "/v1/events"
    ? "events"
    : path === "/v1/balance"
      ? "balance"
      : path.startsWith("/_emulator")
        ? "control"
        : path.startsWith("/oauth") || path === "/v1/oauth/token"
          ? "oauth"
          : "other";

const server = serve({
  fetch: async (request) => {
    const response = await emulator.fetch(request);
    counts[kind(new URL(request.url).pathname)]++;
    if (response.status === 429) counts.rateLimited++;
    return response;
  },
  port: 0,
  hostname: "127.0.0.1",
}) as Server;
await new Promise((resolve) => server.once("listening", resolve));
const keys = emulator.platforms[0]!.keys.test;
const info: EmulatorInfo = {
  url: loopbackUrl(server.address()),
  accountIds: emulator.accountIds,
  secretKey: keys.secretKey,
  clientId: keys.clientId,
  generatedSeconds,
  pid: process.pid,
};
serveParent(info, { counts: async () => ({ ...counts }) }, async () => {
  server.closeAllConnections();
  server.close();
  await emulator.close();
});
