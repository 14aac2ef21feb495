import { readFile } from "node:fs/promises";
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  parse,
  printType,
} from "graphql";
import { describe, expect, it } from "vitest";
import { printSchemaFile, SCHEMA_FILE } from "../../src/graphql/print-schema.ts";
import { schema } from "../../src/graphql/schema.ts";

// Contract types that later issues deliver. Shrinks to nothing as they land; never grows.
const PENDING = new Set<string>([]);

// The contract declares these connection types in a comment ("… likewise"); spell them out.
const LIKEWISE_CONNECTIONS = [
  "StripeCharge",
  "StripeRefund",
  "StripeDispute",
  "StripeBalanceTransaction",
  "StripeCustomer",
  "StripeSubscription",
  "StripeApplicationFee",
  "StripeIssuingAuthorization",
  "StripeIssuingTransaction",
  "StripeEvent",
]
  .map(
    (node) =>
      `type ${node}Connection { edges: [${node}Edge!]! pageInfo: PageInfo! }\ntype ${node}Edge { cursor: String! node: ${node}! }\n`,
  )
  .join("");

describe("GraphQL schema", () => {
  it("matches the committed schema/schema.graphql (run npm run schema:print)", async () => {
    expect(await readFile(SCHEMA_FILE, "utf8")).toBe(printSchemaFile());
  });

  it("has every name of the public contract with its shape, apart from the pending ones", async () => {
    const contract = buildSchema(
      (await readFile(new URL("../../schema/contract.graphql", import.meta.url), "utf8")) +
        LIKEWISE_CONNECTIONS,
    );
    const missing: string[] = [];
    for (const type of Object.values(contract.getTypeMap())) {
      if (type.name.startsWith("__") || PENDING.has(type.name)) continue;
      const actual = schema.getType(type.name);
      if (!actual) {
        missing.push(type.name);
        continue;
      }
      if (isUnionType(type) && isUnionType(actual)) {
        const members = new Set(actual.getTypes().map((t) => t.name));
        for (const member of type.getTypes())
          if (!members.has(member.name)) missing.push(`${type.name} | ${member.name}`);
      }
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        const fields = (actual as typeof type).getFields();
        for (const [name, field] of Object.entries(type.getFields())) {
          if (PENDING.has(`${type.name}.${name}`)) continue;
          const mine = fields[name];
          if (!mine) missing.push(`${type.name}.${name}`);
          else if (String(mine.type) !== String(field.type)) {
            missing.push(`${type.name}.${name}: ${String(field.type)} (is ${String(mine.type)})`);
          } else if ("args" in field && "args" in mine) {
            for (const arg of field.args) {
              const ours = mine.args.find((a) => a.name === arg.name);
              if (String(ours?.type) !== String(arg.type)) missing.push(`${type.name}.${name}(${arg.name})`);
            }
          }
        }
      }
      if (isObjectType(type) && isObjectType(actual)) {
        const interfaces = new Set(actual.getInterfaces().map((i) => i.name));
        for (const iface of type.getInterfaces())
          if (!interfaces.has(iface.name)) missing.push(`${type.name} implements ${iface.name}`);
      }
    }
    expect(missing).toEqual([]);
    expect(getNamedType(schema.getQueryType()!.getFields().viewer!.type).name).toBe("Org");
  });

  it("the contract copy in schema/ is still parseable", async () => {
    const source = await readFile(new URL("../../schema/contract.graphql", import.meta.url), "utf8");
    expect(parse(source).definitions.length).toBeGreaterThan(10);
    expect(printType(schema.getType("Org")!)).toContain("redirectUri");
  });
});
