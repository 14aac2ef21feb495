// Every GraphQL operation the README shows, checked against the committed schema: it is valid, and
// each field that returns a union selects every member of it (what a reader copies handles all cases).
import { readFileSync } from "node:fs";
import {
  buildSchema,
  type GraphQLSchema,
  getNamedType,
  isUnionType,
  Kind,
  parse,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
} from "graphql";
import { describe, expect, it } from "vitest";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const schema = buildSchema(readFileSync(new URL("../../schema/schema.graphql", import.meta.url), "utf8"));

/** Operations in ```graphql blocks, and the `query` strings of the shell and JavaScript examples. */
function readmeOperations(markdown: string): { where: string; source: string }[] {
  const operations: { where: string; source: string }[] = [];
  for (const block of markdown.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    const [, language, body] = block as unknown as [string, string, string];
    const line = markdown.slice(0, block.index).split("\n").length + 1;
    if (language === "graphql") operations.push({ where: `README.md:${line}`, source: body });
    if (language !== "sh" && language !== "js") continue;
    // "query":"…" (JSON in curl's -d), query:"…" and query: '…' (JavaScript)
    for (const match of body.matchAll(/\bquery"?\s*:\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/g)) {
      const literal = match[1]!;
      const source = literal.startsWith('"')
        ? (JSON.parse(literal) as string)
        : literal.slice(1, -1).replaceAll("\\'", "'");
      operations.push({
        where: `README.md:${line + body.slice(0, match.index).split("\n").length - 1}`,
        source,
      });
    }
  }
  return operations;
}

/** "field → Union lacks … on Member" for every union-typed field that leaves a member out. */
function missingUnionMembers(target: GraphQLSchema, source: string): string[] {
  const problems: string[] = [];
  const typeInfo = new TypeInfo(target);
  visit(
    parse(source),
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const type = typeInfo.getType();
        const named = type && getNamedType(type);
        if (!named || !isUnionType(named) || !node.selectionSet) return;
        const selected = new Set(
          node.selectionSet.selections.flatMap((selection) =>
            selection.kind === Kind.INLINE_FRAGMENT && selection.typeCondition
              ? [selection.typeCondition.name.value]
              : [],
          ),
        );
        for (const member of target.getPossibleTypes(named)) {
          if (!selected.has(member.name)) {
            problems.push(`${node.name.value} → ${named.name} lacks "... on ${member.name}"`);
          }
        }
      },
    }),
  );
  return problems;
}

describe("README's GraphQL examples", () => {
  const operations = readmeOperations(readme);

  it("are found (the extraction works)", () => {
    expect(operations.length).toBeGreaterThan(15);
    expect(operations.some((operation) => operation.source.includes("createOrg"))).toBe(true);
  });

  it("are valid against schema/schema.graphql", () => {
    const invalid = operations.flatMap(({ where, source }) =>
      validate(schema, parse(source)).map((error) => `${where}: ${error.message}`),
    );
    expect(invalid).toEqual([]);
  });

  it("select every member of each union they can return", () => {
    const incomplete = operations.flatMap(({ where, source }) =>
      missingUnionMembers(schema, source).map((problem) => `${where}: ${problem}`),
    );
    expect(incomplete).toEqual([]);
  });
});
