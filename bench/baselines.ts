// The run's baselines, each in its own process and measured in rounds interleaved with the paths they
// divide: a bare graphql-yoga `{ hello }` (for queries) and a bare node:http 200 taking the same signed
// webhook bodies and headers the gateway's endpoint is sent.
import { startChild } from "./child.ts";
import { signedPayoutEvent } from "./events.ts";
import type { Load } from "./measure.ts";

export type Baselines = { hello: Load; http200: Load; stop(): Promise<void> };

export async function startBaselines(): Promise<Baselines> {
  const yoga = await startChild<{ url: string }>("yoga-hello.ts");
  const bare = await startChild<{ url: string }>("http-200.ts");
  return {
    hello: { url: `${yoga.info.url}/graphql`, body: JSON.stringify({ query: "{ hello }" }) },
    http200: {
      url: `${bare.info.url}/`,
      body: () => {
        const event = signedPayoutEvent("acct_bench");
        return { body: event.body, headers: { "stripe-signature": event.signature } };
      },
    },
    stop: async () => {
      await yoga.stop();
      await bare.stop();
    },
  };
}
