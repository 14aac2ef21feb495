// Documents for every root field (queries, mutations, subscriptions): its arguments from
// arbitraries.ts, as variables or inline literals, and a random selection a few levels deep whose
// nested fields take generated arguments too.

import type { Arbitrary } from "fast-check";
import * as fc from "fast-check";
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
} from "graphql";
import { type IdPools, inputValue } from "./arbitraries.ts";

export type OperationKind = "query" | "mutation" | "subscription";
export type Operation = {
  kind: OperationKind;
  field: string;
  query: string;
  variables: Record<string, unknown>;
};
export type RootField = { kind: OperationKind; field: GraphQLField<unknown, unknown> };

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** An inline GraphQL literal for `value`, shaped by `type` where it helps (enums, input objects). */
export function literal(value: unknown, type: GraphQLInputType | null): string {
  if (value === null || value === undefined) return "null";
  const inner = type && isNonNullType(type) ? type.ofType : type;
  if (Array.isArray(value))
    return `[${value.map((item) => literal(item, inner && isListType(inner) ? inner.ofType : null)).join(", ")}]`;
  if (inner && isListType(inner)) return literal(value, inner.ofType);
  if (typeof value === "string")
    return inner && isEnumType(inner) && NAME.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "object") {
    const fields = inner && isInputObjectType(inner) ? inner.getFields() : {};
    const entries = Object.entries(value as Record<string, unknown>).map(([key, item], i) => {
      const name = NAME.test(key) ? key : `k${i}`;
      return `${name}: ${literal(item, fields[key]?.type ?? null)}`;
    });
    return `{${entries.join(", ")}}`;
  }
  return "null";
}

export function rootFields(schema: GraphQLSchema): RootField[] {
  const of = (kind: OperationKind, type: ReturnType<GraphQLSchema["getQueryType"]>) =>
    Object.values(type?.getFields() ?? {}).map((field) => ({ kind, field }));
  return [
    ...of("query", schema.getQueryType()),
    ...of("mutation", schema.getMutationType()),
    ...of("subscription", schema.getSubscriptionType()),
  ];
}

/** Include an argument? Required ones nearly always, optional ones half the time. */
const includeArg = (arg: GraphQLArgument) =>
  isNonNullType(arg.type) ? fc.double({ min: 0, max: 1 }).map((x) => x < 0.95) : fc.boolean();

function inlineArgs(args: readonly GraphQLArgument[], pools: IdPools): Arbitrary<string> {
  if (args.length === 0) return fc.constant("");
  return fc
    .tuple(...args.map((arg) => fc.tuple(includeArg(arg), inputValue(arg.type, pools))))
    .map((values) => {
      const parts = values.flatMap(([included, value], i) =>
        included ? [`${args[i]!.name}: ${literal(value, args[i]!.type)}`] : [],
      );
      return parts.length ? `(${parts.join(", ")})` : "";
    });
}

function fieldSelection(
  schema: GraphQLSchema,
  field: GraphQLField<unknown, unknown>,
  depth: number,
  pools: IdPools,
) {
  return fc
    .tuple(inlineArgs(field.args, pools), selection(schema, field.type, depth, pools))
    .map(([args, sub]) => `${field.name}${args}${sub ? ` ${sub}` : ""}`);
}

/** A selection set for `type` (empty for a leaf), nested fields only while `depth` > 0. */
export function selection(
  schema: GraphQLSchema,
  type: GraphQLOutputType,
  depth: number,
  pools: IdPools,
): Arbitrary<string> {
  const named: GraphQLNamedType = getNamedType(type);
  if (isLeafType(named)) return fc.constant("");
  const fieldsOf = (owner: GraphQLNamedType) =>
    isObjectType(owner) || isInterfaceType(owner) ? Object.values(owner.getFields()) : [];
  const fields = fieldsOf(named);
  const leaves = fields.filter((field) => isLeafType(getNamedType(field.type)));
  const branches = depth > 0 ? fields.filter((field) => !isLeafType(getNamedType(field.type))) : [];
  const own = fc.tuple(
    fc
      .subarray(leaves, { maxLength: Math.min(6, leaves.length) })
      .chain((chosen) => fc.tuple(...chosen.map((field) => fieldSelection(schema, field, 0, pools)))),
    fc
      .subarray(branches, { maxLength: Math.min(2, branches.length) })
      .chain((chosen) => fc.tuple(...chosen.map((field) => fieldSelection(schema, field, depth - 1, pools)))),
  );
  const fragments: Arbitrary<string[]> = isAbstractType(named)
    ? fc
        .subarray([...schema.getPossibleTypes(named)], {
          maxLength: Math.min(2, schema.getPossibleTypes(named).length),
        })
        .chain((types) =>
          fc.tuple(
            ...types.map((member) =>
              selection(schema, member, Math.max(0, depth - 1), pools).map(
                (sub) => `... on ${member.name} ${sub}`,
              ),
            ),
          ),
        )
    : fc.constant([]);
  return fc
    .tuple(own, fragments)
    .map(
      ([[leafParts, branchParts], fragmentParts]) =>
        `{ __typename ${[...leafParts, ...branchParts, ...fragmentParts].join(" ")} }`,
    );
}

/** One operation on a root field: each argument inline or as a variable of its declared type. */
export function operation(
  schema: GraphQLSchema,
  root: RootField,
  pools: IdPools,
  depth = 4,
): Arbitrary<Operation> {
  const { field, kind } = root;
  const args = field.args;
  return fc
    .tuple(
      fc.tuple(
        ...args.map((arg) =>
          fc.record({ included: includeArg(arg), inline: fc.boolean(), value: inputValue(arg.type, pools) }),
        ),
      ),
      selection(schema, field.type, depth, pools),
    )
    .map(([values, sub]) => {
      const declarations: string[] = [];
      const variables: Record<string, unknown> = {};
      const parts = values.flatMap(({ included, inline, value }, i) => {
        const arg = args[i]!;
        if (!included) return [];
        if (inline) return [`${arg.name}: ${literal(value, arg.type)}`];
        declarations.push(`$v${i}: ${String(arg.type)}`);
        variables[`v${i}`] = value;
        return [`${arg.name}: $v${i}`];
      });
      const head = declarations.length ? `${kind} Fuzz(${declarations.join(", ")})` : `${kind} Fuzz`;
      const call = `${field.name}${parts.length ? `(${parts.join(", ")})` : ""}${sub ? ` ${sub}` : ""}`;
      return { kind, field: field.name, query: `${head} { ${call} }`, variables };
    });
}
