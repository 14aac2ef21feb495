// A query's cost is the most objects it can return, known before anything runs. graphql-query-complexity
// walks the document (fragments, inline fragments on unions and interfaces, @skip/@include, variables with
// their defaults) and leaves the pricing of each field to an estimator: one library that does the walk
// right, and the gateway's own rule for what a list costs. An own TypeInfo rule would have to redo all of
// that walk to change only the estimator.
import {
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLNamedType,
  GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isCompositeType,
  Kind,
  type SelectionSetNode,
  visit,
} from "graphql";
import { type ComplexityEstimator, getComplexity } from "graphql-query-complexity";
import type { Plugin } from "graphql-yoga";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./pagination.ts";

/** Relay connections: a page of edges and its pageInfo. */
function isConnection(type: GraphQLNamedType): boolean {
  if (!(type instanceof GraphQLObjectType)) return false;
  const fields = type.getFields();
  return "edges" in fields && "pageInfo" in fields;
}

/**
 * How many items a connection field can return: `first`, else `last`, else the default page size — the
 * same 20 for the lists of StripeConnection (DEFAULT_PAGE_SIZE) and for child lists (the relay plugin's
 * default, child-lists.ts). More than MAX_PAGE_SIZE is refused when the field runs, so it never counts more.
 */
function pageSize(args: Record<string, unknown>): number {
  const requested =
    typeof args.first === "number"
      ? args.first
      : typeof args.last === "number"
        ? args.last
        : DEFAULT_PAGE_SIZE;
  return Math.max(0, Math.min(requested, MAX_PAGE_SIZE));
}

type Fragments = Record<string, FragmentDefinitionNode>;

/** Whether a connection's selection asks for its totalCount, directly or through fragments. */
function selectsTotalCount(selectionSet: SelectionSetNode | undefined, fragments: Fragments): boolean {
  const seen = new Set<string>();
  const visitSet = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === "totalCount";
      if (selection.kind === Kind.INLINE_FRAGMENT) return visitSet(selection.selectionSet);
      const name = selection.name.value;
      if (seen.has(name)) return false;
      seen.add(name);
      return visitSet(fragments[name]?.selectionSet);
    });
  return visitSet(selectionSet);
}

/**
 * Scalars and enums are part of their object (0); an object is 1 plus what it selects; a connection is 1
 * plus its page size times what each item selects (its edges and pageInfo are part of the list, not objects
 * of their own), plus 1 for its totalCount (one count, whatever the page); `nodes(ids:)` is one object per
 * id. Other lists (a balance's amounts, syncStates) are bounded by the data, not by the client, and count as
 * one object. `context.fragments` are the document's fragments, for the totalCount it names through them.
 */
export const estimateObjects: ComplexityEstimator = ({
  type,
  field,
  node,
  args,
  childComplexity,
  context,
}) => {
  const named = getNamedType(field.type);
  if (!isCompositeType(named)) return 0;
  if (isConnection(type) && field.name === "edges") return childComplexity;
  if (isConnection(type) && field.name === "pageInfo") return 0;
  if (isConnection(named)) {
    const count = selectsTotalCount(node.selectionSet, (context?.fragments ?? {}) as Fragments) ? 1 : 0;
    return 1 + pageSize(args) * childComplexity + count;
  }
  if (Array.isArray(args.ids)) return args.ids.length * (1 + childComplexity);
  return 1 + childComplexity;
};

/** The arguments that size a list; with @skip and @include, all that variables can change in a cost. */
const SIZE_ARGUMENTS = new Set(["first", "last", "ids"]);

/** Whether a variable sizes a list or decides an @skip/@include anywhere in the document. */
function costDependsOnVariables(document: DocumentNode): boolean {
  let deciding = 0;
  let depends = false;
  const sizes = (argument: ArgumentNode) => (SIZE_ARGUMENTS.has(argument.name.value) ? 1 : 0);
  visit(document, {
    Directive: {
      enter: () => {
        deciding++;
      },
      leave: () => {
        deciding--;
      },
    },
    Argument: {
      enter: (argument) => {
        deciding += sizes(argument);
      },
      leave: (argument) => {
        deciding -= sizes(argument);
      },
    },
    Variable: () => {
      if (deciding > 0) depends = true;
    },
  });
  return depends;
}

/** Costs that no variable can change, by document (Yoga hands out one object per document text). */
const fixedCosts = new WeakMap<DocumentNode, { depends: boolean; byOperation: Map<string, number> }>();

/**
 * The cost of the operation a request runs, with its variables; null when the operation or its variables are
 * not valid, which execution then refuses before any resolver runs.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  operationName: string | undefined,
): number | null {
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  let known = fixedCosts.get(document);
  if (!known) {
    known = { depends: costDependsOnVariables(document), byOperation: new Map() };
    fixedCosts.set(document, known);
  }
  const key = operation.name?.value ?? "";
  const fixed = known.byOperation.get(key);
  if (fixed !== undefined) return fixed;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], { ...variables });
  if (coerced.errors) return null;
  const cost = getComplexity({
    schema,
    query: document,
    variables: { ...variables },
    // Named only when it is: the library reads every operation's name when one is given.
    operationName: operation.name?.value,
    estimators: [estimateObjects],
    context: { fragments: fragmentsOf(document) },
  });
  if (!known.depends) known.byOperation.set(key, cost);
  return cost;
}

function fragmentsOf(document: DocumentNode): Fragments {
  const fragments: Fragments = {};
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  return fragments;
}

/** Marks the refusals this module makes, so that a cached validation result can be told from them. */
class QueryCostError extends GraphQLError {}

function costRefusal(message: string, extensions: Record<string, unknown> = {}): QueryCostError {
  return new QueryCostError(message, {
    extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 }, ...extensions },
  });
}

/**
 * Refuses, as a validation error, an operation whose cost is over `maxCost`, before its context is built
 * (authentication reads the database on a cold cache) or anything runs.
 */
export function useCostLimit(maxCost: number): Plugin {
  const format = (n: number) => n.toLocaleString("en-US");
  return {
    onValidate:
      ({ context, params: { schema, documentAST } }) =>
      ({ result, setResult }) => {
        // Yoga caches validation results by document (a hook after this one stores them), but variables
        // change the cost: a refusal that another request's variables earned is dropped and decided again.
        const errors = result.filter((error) => !(error instanceof QueryCostError));
        if (errors.length > 0) {
          if (errors.length < result.length) setResult(errors);
          return;
        }
        const { variables, operationName } = context.params ?? {};
        let cost: number | null;
        try {
          cost = queryCost(schema, documentAST, variables, operationName ?? undefined);
        } catch (error) {
          // e.g. a fragment spread so often that the walk gives up: too costly to price is too costly
          const reason = error instanceof GraphQLError ? error.message : "it cannot be priced.";
          setResult([costRefusal(`Query cost is over the limit of ${format(maxCost)}: ${reason}`)]);
          return;
        }
        if (cost !== null && cost > maxCost) {
          setResult([
            costRefusal(
              `Query cost ${format(cost)} exceeds the limit of ${format(maxCost)} (GRAPHQL_MAX_COST): ` +
                "each list counts its `first` (or `last`, or 20 without either) times what it selects.",
              { cost, maxCost },
            ),
          ]);
        } else if (result.length > 0) {
          setResult([]);
        }
      },
  };
}
