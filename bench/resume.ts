// Resume after missed changes: a `changes` subscriber (graphql-sse's client) takes the sequence of a live
// change, goes away while settings.missedChanges signed webhooks are stored and applied, then subscribes
// again with `after`. Measured: the time from that subscribe until it has every missed change and is live
// again (a change made right after the replay reaches it).
import { Agent, request } from "node:http";
import { createClient } from "graphql-sse";
import type { Child } from "./child.ts";
import { signedPayoutEvent } from "./events.ts";
import { median, settings } from "./measure.ts";
import type { GatewayInfo } from "./servers/gateway.ts";

export type Resume = { ms: number; rounds: number[] };

type Change = { changes: { sequence: string } };
const DOCUMENT = "subscription Resume($after: String) { changes(after: $after) { sequence type } }";

export async function measureResume(gateway: Child<GatewayInfo>): Promise<Resume> {
  const { url, webhookPath, stripeAccountId, apiKey } = gateway.info;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const post = () => {
    const event = signedPayoutEvent(stripeAccountId, "po_resume");
    return new Promise<number>((resolve) => {
      const req = request(
        `${url}${webhookPath}`,
        {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "stripe-signature": event.signature },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", () => resolve(0));
      req.end(event.body);
    });
  };
  const client = createClient({
    url: `${url}/graphql`,
    headers: { authorization: `Bearer ${apiKey}` },
    retryAttempts: 0,
  });
  try {
    const rounds: number[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      // The sequence a subscriber saw last before it went away.
      const live = client.iterate<Change>({ query: DOCUMENT });
      const first = live.next();
      // The subscription is live once it hears one: post until it does.
      let heard = false;
      void first.finally(() => {
        heard = true;
      });
      for (let tries = 0; !heard && tries < 100; tries++) {
        await post();
        await Promise.race([first, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
      if (!heard) throw new Error("the live subscription heard nothing in 10 s");
      const seen = BigInt(((await first).value as { data: Change }).data.changes.sequence);
      await live.return?.();
      for (let sent = 0; sent < settings.missedChanges; sent += 50)
        await Promise.all(Array.from({ length: Math.min(50, settings.missedChanges - sent) }, post));
      const started = performance.now();
      const resumed = client.iterate<Change>({ query: DOCUMENT, variables: { after: String(seen) } });
      let last = seen;
      while (last < seen + BigInt(settings.missedChanges)) {
        const step = await resumed.next();
        if (step.done) throw new Error("the resumed subscription ended");
        last = BigInt((step.value as { data: Change }).data.changes.sequence);
      }
      // Live again: a change made now reaches it (posted until it does, like the first).
      const next = resumed.next();
      let liveAgain = false;
      void next.finally(() => {
        liveAgain = true;
      });
      while (!liveAgain) {
        await post();
        await Promise.race([next, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
      rounds.push(performance.now() - started);
      await resumed.return?.();
      await gateway.call("idle");
    }
    return { ms: median(rounds), rounds };
  } finally {
    client.dispose();
    agent.destroy();
  }
}
