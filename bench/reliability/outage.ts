// What the two outage scenarios share: a timeline (before, down, after, and the transitions between), the
// answers of each probe sorted into it, and probes that keep asking the gateway while a dependency is away.

import { leaksIn } from "./graphql/leaks.ts";
import type { Http } from "./http.ts";
import { sleep } from "./phases.ts";
import { Tally } from "./pool.ts";

/** Wall-clock ms: the dependency began stopping, was stopped, began starting, answered again. */
export type Timeline = { stopBegan: number; stopped: number; startBegan: number; started: number };
export type Period = "before" | "down" | "after" | "transition";

/** A request belongs to `down` only when it was sent after the stop completed and answered before the restart. */
export function periodOf(timeline: Timeline, sentAt: number, answeredAt: number): Period {
  if (answeredAt < timeline.stopBegan) return "before";
  if (sentAt >= timeline.stopped && answeredAt <= timeline.startBegan) return "down";
  if (sentAt >= timeline.started) return "after";
  return "transition";
}

export type Periods = Record<Period, Tally>;
export const newPeriods = (): Periods => ({
  before: new Tally(),
  down: new Tally(),
  after: new Tally(),
  transition: new Tally(),
});

export type ProbeAnswer = {
  sentAt: number;
  answeredAt: number;
  status: number;
  body: string;
  request: string;
};

/** Asks `ask` every `everyMs` until stopped; keeps every answer. */
export function startProbe(ask: () => Promise<Omit<ProbeAnswer, "sentAt" | "answeredAt">>, everyMs = 500) {
  const answers: ProbeAnswer[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sentAt = Date.now();
      const answer = await ask();
      answers.push({ ...answer, sentAt, answeredAt: Date.now() });
      await sleep(everyMs);
    }
  })();
  return {
    answers,
    async stop() {
      running = false;
      await loop;
    },
  };
}

export const graphqlProbe = (http: Http, gateway: string, apiKey: string, connectionId: string) =>
  startProbe(async () => {
    const query =
      "query($id: ID!) { viewer { id } stripeConnection(id: $id) { status payouts(first: 1) { edges { node { id } } } } }";
    const answer = await http.graphql(
      gateway,
      apiKey,
      { query, variables: { id: connectionId } },
      { timeoutMs: 10_000 },
    );
    return { status: answer.status, body: answer.body, request: query };
  });

export const readyzProbe = (http: Http, gateway: string) =>
  startProbe(async () => {
    const answer = await http.request(`${gateway}/readyz`, { timeoutMs: 10_000 });
    return { status: answer.status, body: answer.body, request: "" };
  });

/** Answers by period: status (a GraphQL 200 with errors counts as "200 with errors"). */
export function sortProbe(timeline: Timeline, answers: ProbeAnswer[]) {
  const periods = newPeriods();
  const leaks = new Tally();
  for (const answer of answers) {
    const withErrors = answer.status === 200 && answer.body.includes('"errors"');
    periods[periodOf(timeline, answer.sentAt, answer.answeredAt)].add(
      answer.status === 0 ? "no answer" : withErrors ? "200 with errors" : answer.status,
    );
    for (const leak of leaksIn(answer.body, answer.request)) leaks.add(`${leak.name}: ${leak.match}`);
  }
  return { periods, leaks };
}
