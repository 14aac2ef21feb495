// Scenario 2: property-based GraphQL requests over every root field (queries, mutations, subscription
// attempts over HTTP) with generated arguments of every type, mostly with the org's API key. Figures:
// statuses, 5xx (none may), responses showing internals (none may), another org's data (none may), and
// masked "Unexpected error." answers with what the gateway logged for them.
import * as fc from "fast-check";
import type { GraphQLSchema } from "graphql";
import { type GraphQLInputType, getNamedType, isInputObjectType } from "graphql";
import { type IdPools, withDeepJson } from "./graphql/arbitraries.ts";
import { operation, rootFields } from "./graphql/documents.ts";
import { leaksIn, MASKED } from "./graphql/leaks.ts";
import type { Http } from "./http.ts";
import { inPool, Tally } from "./pool.ts";

export type Example = { field: string; status: number; request: string; answer: string; detail?: string };

export type GraphQLFuzzResults = {
  seed: number;
  requests: number;
  byKind: Tally;
  statuses: Tally;
  credentials: Tally;
  fieldsCovered: string[];
  fieldsTotal: number;
  argumentTypes: string[];
  serverErrors: Example[];
  serverErrorCount: number;
  leaks: Tally;
  leakExamples: Example[];
  masked: Tally;
  maskedRequestIds: string[];
  crossOrg: number;
  crossOrgExamples: Example[];
  /** Requests this bench failed to build or send (its own errors, not the gateway's) */
  benchErrors: Tally;
  seconds: number;
};

type Credential = { label: string; authorization: string | null };

export type FuzzContext = {
  http: Http;
  gateway: string;
  schema: GraphQLSchema;
  pools: IdPools;
  /** Who sends each request, by weight: the org's key most of the time */
  credentials: { credential: Credential; weight: number }[];
  /** Strings only another org's data contains (its account ids, org ids) */
  foreignMarkers: string[];
  seed: number;
};

function argumentTypeNames(schema: GraphQLSchema): string[] {
  const names = new Set<string>();
  const visit = (type: GraphQLInputType) => {
    const named = getNamedType(type);
    if (names.has(named.name)) return;
    names.add(named.name);
    if (isInputObjectType(named)) for (const field of Object.values(named.getFields())) visit(field.type);
  };
  for (const { field } of rootFields(schema)) for (const arg of field.args) visit(arg.type);
  // Nested fields' arguments too (payouts(first, status, arrivalDate), …).
  for (const type of Object.values(schema.getTypeMap()))
    if ("getFields" in type && !isInputObjectType(type) && !type.name.startsWith("__"))
      for (const field of Object.values(type.getFields()))
        for (const arg of "args" in field ? field.args : []) visit(arg.type);
  return [...names].sort();
}

export async function runGraphQLFuzz(
  context: FuzzContext,
  counts: { requests: number; concurrency: number },
  signal: AbortSignal,
): Promise<GraphQLFuzzResults> {
  const began = performance.now();
  const roots = rootFields(context.schema);
  const plans = fc.sample(
    fc.tuple(
      fc.constantFrom(...roots).chain((root) => operation(context.schema, root, context.pools)),
      fc.oneof(
        ...context.credentials.map(({ credential, weight }) => ({
          weight,
          arbitrary: fc.constant(credential),
        })),
      ),
      fc.integer({ min: 0, max: 2 }),
    ),
    { seed: context.seed, numRuns: counts.requests },
  );
  const results: GraphQLFuzzResults = {
    seed: context.seed,
    requests: 0,
    byKind: new Tally(),
    statuses: new Tally(),
    credentials: new Tally(),
    fieldsCovered: [],
    fieldsTotal: roots.length,
    argumentTypes: argumentTypeNames(context.schema),
    serverErrors: [],
    serverErrorCount: 0,
    leaks: new Tally(),
    leakExamples: [],
    masked: new Tally(),
    maskedRequestIds: [],
    crossOrg: 0,
    crossOrgExamples: [],
    benchErrors: new Tally(),
    seconds: 0,
  };
  const covered = new Set<string>();
  await inPool(
    plans,
    counts.concurrency,
    signal,
    async ([op, credential, transport]) => {
      const body = withDeepJson(JSON.stringify({ query: op.query, variables: op.variables }));
      // Subscriptions: two in three as GraphQL over SSE (read for 400 ms), one asking for JSON only.
      const subscription = op.kind === "subscription";
      const answer = await context.http.request(`${context.gateway}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(subscription ? { accept: transport > 0 ? "text/event-stream" : "application/json" } : {}),
          ...(credential.authorization === null ? {} : { authorization: credential.authorization }),
        },
        body,
        timeoutMs: 30_000,
        ...(subscription ? { streamMs: 400 } : {}),
      });
      results.requests += 1;
      covered.add(`${op.kind}.${op.field}`);
      results.byKind.add(op.kind);
      results.credentials.add(credential.label);
      results.statuses.add(answer.status === 0 ? "no answer" : answer.status);
      const example = (detail?: string): Example => ({
        field: `${op.kind}.${op.field}`,
        status: answer.status,
        request: body.slice(0, 400),
        answer: answer.body.slice(0, 400),
        detail,
      });
      if (answer.status >= 500) results.serverErrorCount += 1;
      if ((answer.status >= 500 || answer.status <= 0) && results.serverErrors.length < 10)
        results.serverErrors.push(example(answer.error));
      const shown = `${JSON.stringify(answer.headers)}\n${answer.body}`;
      for (const leak of leaksIn(shown, body)) {
        results.leaks.add(leak.name);
        if (results.leakExamples.length < 10)
          results.leakExamples.push(example(`${leak.name}: ${leak.match}`));
      }
      if (answer.body.includes(MASKED)) {
        results.masked.add(`${op.kind}.${op.field}`);
        const requestId = answer.headers["x-request-id"];
        if (typeof requestId === "string") results.maskedRequestIds.push(requestId);
      }
      const marker = context.foreignMarkers.find(
        (value) => answer.body.includes(value) && !body.includes(value),
      );
      if (marker) {
        results.crossOrg += 1;
        if (results.crossOrgExamples.length < 5) results.crossOrgExamples.push(example(`shows ${marker}`));
      }
    },
    results.benchErrors,
  );
  results.fieldsCovered = [...covered].sort();
  results.seconds = (performance.now() - began) / 1000;
  return results;
}
