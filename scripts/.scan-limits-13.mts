import { readFileSync } from "node:fs";
import { Lexer, Source, TokenKind, parse, validate, specifiedRules, type DocumentNode, Kind } from "graphql";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import { print } from "graphql";
import * as docs from "../test/graphql/graphql.ts";
import { schema } from "../src/graphql/schema.ts";
import { queryCost } from "../src/graphql/query-cost.ts";

const all: [string, string][] = [];
for (const [name, value] of Object.entries(docs)) if (value && (value as DocumentNode).kind === Kind.DOCUMENT) all.push([name, print(value as DocumentNode)]);
const readme = readFileSync("README.md", "utf8");
for (const m of readme.matchAll(/```graphql\n([\s\S]*?)```/g)) all.push(["README block", m[1]!]);
for (const m of readme.matchAll(/"query":"((?:[^"\\]|\\.)*)"/g)) all.push(["README curl", JSON.parse(`"${m[1]}"`)]);
for (const m of readme.matchAll(/query: "((?:[^"\\]|\\.)*)"/g)) all.push(["README js", JSON.parse(`"${m[1]}"`)]);
for (const m of readme.matchAll(/query: '([^']*)'/g)) all.push(["README js'", m[1]!]);
const docsMd = readFileSync("docs/emulator.md", "utf8") + readFileSync("docs/adding-a-resource.md", "utf8");
for (const m of docsMd.matchAll(/```graphql\n([\s\S]*?)```/g)) all.push(["docs block", m[1]!]);
all.push(["bench 100", `query Payouts($id: ID!, $created: DateTimeRange) { stripeConnection(id: $id) { payouts(first: 100, created: $created) { edges { node { stripeId amount currency status arrivalDate created } } } } }`]);
all.push(["demo e2e", "{ stripeConnections { edges { node { status stripeAccountId } } } }"]);
const issueDash = `query D($id: ID!) { stripeConnection(id: $id) { status account { businessName } balance { available { amount currency } } syncStates { resource status }
 payouts(first: 100) { edges { node { id stripeId amount currency status arrivalDate reconciliationStatus created balanceTransactions(first: 10) { edges { node { stripeId type amount fee net sourceId } } } } } pageInfo { hasNextPage endCursor } }
 charges(first: 20) { edges { node { stripeId amount status refunds { edges { node { stripeId amount } } } } } }
 disputes(first: 20) { edges { node { stripeId amount reason } } } } }`;
all.push(["issue dashboard", issueDash]);
all.push(["100x100x100", `{ stripeConnections(first: 100) { edges { node { payouts(first: 100) { edges { node { balanceTransactions(first: 100) { edges { node { id } } } } } } } } } }`]);

let worst = { depth: 0, aliases: 0, directives: 0, tokens: 0, cost: 0 };
for (const [name, text] of all) {
  let doc: DocumentNode;
  try { doc = parse(text); } catch (e) { console.log("PARSE FAIL", name, String(e).slice(0, 80)); continue; }
  const lexer = new Lexer(new Source(text)); let tokens = 0; while (lexer.advance().kind !== TokenKind.EOF) tokens++;
  const m = { depth: 0, aliases: 0, directives: 0 };
  const errors = validate(schema, doc, [...specifiedRules,
    maxDepthRule({ n: 1e9, flattenFragments: true, onAccept: [(_c, d) => { m.depth = Math.max(m.depth, d.n); }] }),
    maxAliasesRule({ n: 1e9, onAccept: [(_c, d) => { m.aliases = Math.max(m.aliases, d.n); }] }),
    maxDirectivesRule({ n: 1e9, onAccept: [(_c, d) => { m.directives = Math.max(m.directives, d.n); }] }),
  ]);
  if (errors.length) { console.log("INVALID", name, errors[0]!.message.slice(0, 100), text.slice(0, 300)); continue; }
  const ints: Record<string, unknown> = {};
  for (const def of doc.definitions) if (def.kind === Kind.OPERATION_DEFINITION) for (const v of def.variableDefinitions ?? []) {
    const t = print(v.type).replace(/!/g, ""); const required = v.type.kind === Kind.NON_NULL_TYPE;
    const sample: Record<string, unknown> = { Int: 100, ID: "x", String: "x", Boolean: false, SafeInt: 1, DateTime: "2026-01-01T00:00:00Z", JSON: {}, "[String]": ["x"], "[ID]": ["x"] };
    if (t === "Int") ints[v.variable.name.value] = 100; else if (required) ints[v.variable.name.value] = sample[t] ?? {};
  }
  let cost: number | null = null;
  try { cost = queryCost(schema, doc, ints, undefined); } catch (e) { console.log("COST FAIL", name, String(e)); }
  const defaults = Object.fromEntries(Object.entries(ints).filter(([, v]) => v !== 100));
  const costDefault = queryCost(schema, doc, defaults, undefined);
  const row = { name, tokens, ...m, cost, costDefault };
  worst = { depth: Math.max(worst.depth, m.depth), aliases: Math.max(worst.aliases, m.aliases), directives: Math.max(worst.directives, m.directives), tokens: Math.max(worst.tokens, tokens), cost: Math.max(worst.cost, name === "100x100x100" ? 0 : cost ?? 0) };
  if (process.argv.includes("-v") || tokens > 150 || m.depth > 8 || (cost ?? 0) > 2000 || m.aliases > 3) console.log(JSON.stringify(row));
}
console.log("documents", all.length, "worst", worst);
