// Scenario 1: thousands of random mutations of valid webhook deliveries (headers, bytes, transport,
// framing) and validly re-signed mutated bodies, each built around a fresh signed event. Figures: how many
// verified (a forged one never may), how many answered 5xx (none may), the statuses of each family.
import * as fc from "fast-check";
import type { Http, Transcript } from "./http.ts";
import { bodyMutators } from "./mutations/body.ts";
import { FRAMINGS } from "./mutations/framing.ts";
import { headerMutators } from "./mutations/header.ts";
import { resignedMutators } from "./mutations/resigned.ts";
import { transportMutators } from "./mutations/transport.ts";
import type { Base, Mutated, MutationClass, Mutator } from "./mutations/types.ts";
import { inPool, Tally } from "./pool.ts";
import { rawExchange } from "./raw-http.ts";
import type { OrgWorld } from "./setup.ts";
import { nowSeconds, payoutDelivery, v1Signature } from "./webhook-signing.ts";

export type FamilyResult = {
  family: string;
  class: MutationClass;
  sent: number;
  statuses: Tally;
  /** Answered 2xx `{ received: true }`: the signature was accepted */
  verified: number;
  serverErrors: number;
  /** The mutation happened to change nothing (not counted as forged) */
  unchanged: number;
  codes: Tally;
  outcomes: Tally;
};

export type Violation = { family: string; status: number; signature: string; body: string; answer: string };

export type MutationResults = {
  seed: number;
  planned: number;
  families: FamilyResult[];
  violations: Violation[];
  /** Deliveries this bench failed to build or send (its own errors, not the gateway's) */
  benchErrors: Tally;
  seconds: number;
};

type Context = {
  http: Http;
  transcript: Transcript;
  gateway: string;
  org: OrgWorld;
  other: OrgWorld;
  seed: number;
};

function freshBase({ org, other }: Context): Base {
  const event = payoutDelivery(org.account, "po_mut");
  const body = Buffer.from(event.body);
  const t = nowSeconds();
  return {
    body,
    t,
    v1: v1Signature(body, org.signingSecret, t),
    secret: org.signingSecret,
    otherSecret: other.signingSecret,
    otherOrgPath: other.webhookPath,
    path: org.webhookPath,
    account: org.account,
    otherAccount: other.account,
  };
}

const signatureOf = (sent: Mutated) => {
  const entry = Object.entries(sent.headers).find(([name]) => name.toLowerCase() === "stripe-signature");
  return entry ? String(entry[1]) : "";
};

const isUnchanged = (base: Base, sent: Mutated) =>
  (sent.path ?? base.path) === base.path &&
  sent.body.equals(base.body) &&
  signatureOf(sent) === `t=${base.t},v1=${base.v1}`;

export async function runWebhookMutations(
  context: Context,
  counts: { mutations: number; resigned: number; concurrency: number },
  signal: AbortSignal,
): Promise<MutationResults> {
  const began = performance.now();
  const families = new Map<string, FamilyResult>();
  const violations: Violation[] = [];
  const benchErrors = new Tally();
  const familyOf = (family: string, kind: MutationClass) => {
    let result = families.get(family);
    if (!result) {
      result = {
        family,
        class: kind,
        sent: 0,
        statuses: new Tally(),
        verified: 0,
        serverErrors: 0,
        unchanged: 0,
        codes: new Tally(),
        outcomes: new Tally(),
      };
      families.set(family, result);
    }
    return result;
  };
  const tally = (
    result: FamilyResult,
    status: number,
    answer: string,
    sent: { signature: string; body: Buffer },
  ) => {
    result.sent += 1;
    result.statuses.add(status === 0 ? "no answer" : status);
    let parsed: { received?: boolean; outcome?: string; error?: { code?: string } } = {};
    try {
      parsed = JSON.parse(answer) as typeof parsed;
    } catch {}
    if (parsed.error?.code) result.codes.add(parsed.error.code);
    if (parsed.outcome) result.outcomes.add(parsed.outcome);
    const verified = status >= 200 && status < 300 && parsed.received === true;
    if (verified) result.verified += 1;
    if (status >= 500) result.serverErrors += 1;
    if ((status >= 500 || (verified && result.class === "forged")) && violations.length < 20)
      violations.push({
        family: result.family,
        status,
        signature: sent.signature.slice(0, 200),
        body: sent.body.subarray(0, 300).toString("utf8"),
        answer: answer.slice(0, 300),
      });
  };

  const plan = (mutators: Mutator[], runs: number, seed: number) =>
    fc.sample(
      fc.constantFrom(...mutators).chain((m) => m.params.map((params) => ({ m, params }))),
      { seed, numRuns: runs },
    );
  const jobs = [
    ...plan([...headerMutators, ...bodyMutators, ...transportMutators], counts.mutations, context.seed),
    ...plan(resignedMutators, counts.resigned, context.seed + 1),
  ];

  const send = (base: Base, sent: Mutated) =>
    context.http.request(`${context.gateway}${sent.path ?? base.path}`, {
      method: "POST",
      headers: sent.headers,
      body: sent.body,
      chunked: sent.chunked,
      timeoutMs: 15_000,
    });

  await inPool(
    jobs,
    counts.concurrency,
    signal,
    async ({ m, params }) => {
      const base = freshBase(context);
      const sent = m.apply(base, params);
      const result = familyOf(m.family, m.class);
      if (m.class === "replay") {
        const first = await send(base, sent);
        tally(familyOf("replay: first delivery", "transport"), first.status, first.body, {
          signature: signatureOf(sent),
          body: sent.body,
        });
      } else if (m.class === "forged" && isUnchanged(base, sent)) {
        result.unchanged += 1;
        return;
      }
      const answer = await send(base, sent);
      tally(result, answer.status, answer.body, { signature: signatureOf(sent), body: sent.body });
    },
    benchErrors,
  );

  // Framing, over raw sockets: every case a few times, a few at once (some wait for bytes that never come).
  const framingJobs = FRAMINGS.flatMap((framing) => Array.from({ length: 6 }, (_, n) => ({ framing, n })));
  const host = new URL(context.gateway).host;
  await inPool(
    framingJobs,
    12,
    signal,
    async ({ framing, n }) => {
      const base = freshBase(context);
      const bytes = framing.request(base, host, n);
      const answer = await rawExchange(context.gateway, bytes, {
        transcript: context.transcript,
        path: base.path,
        waitMs: framing.waitMs,
        halfClose: framing.halfClose,
      });
      tally(familyOf(`framing: ${framing.family}`, "framing"), answer.status, answer.body, {
        signature: `t=${base.t},v1=${base.v1}`,
        body: bytes,
      });
    },
    benchErrors,
  );

  return {
    seed: context.seed,
    planned: jobs.length + framingJobs.length,
    families: [...families.values()],
    violations,
    benchErrors,
    seconds: (performance.now() - began) / 1000,
  };
}
