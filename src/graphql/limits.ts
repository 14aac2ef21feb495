// Limits checked before execution: the token count while the document is parsed, then its depth, aliases,
// directives and cost while it is validated. Yoga validates before it builds the context (where the
// credential is authenticated), so a refused document reaches no resolver and sends no SQL statement.
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { GraphQLError, type ValidationContext } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Config } from "../config.ts";
import { useCostLimit } from "./query-cost.ts";

export type QueryLimits = Pick<
  Config["graphql"],
  "maxDepth" | "maxAliases" | "maxTokens" | "maxDirectives" | "maxCost"
>;

/**
 * graphql-armor's refusal, reworded: without its "Syntax Error:" prefix (the document is well formed),
 * naming the variable that sets the limit, and coded as Yoga codes every validation error.
 */
function limitExceeded(refusal: GraphQLError, variable: string): GraphQLError {
  const message = refusal.message.replace(/^Syntax Error: /, "").replace(/\.$/, "");
  return new GraphQLError(`${message} (${variable}).`, {
    extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 } },
  });
}

/** Reports the refusal as a validation error rather than throwing it out of validate(). */
const reportAs = (variable: string) => ({
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, refusal: GraphQLError) =>
      context?.reportError(limitExceeded(refusal, variable)),
  ],
});

/** The envelop plugins of every limit, in the order they apply. */
export function useQueryLimits(limits: QueryLimits): Plugin[] {
  return [
    maxTokensPlugin({
      n: limits.maxTokens,
      // The parser has no validation context to report to: the refusal stops the parse.
      onReject: [
        (_context, refusal) => {
          throw limitExceeded(refusal, "GRAPHQL_MAX_TOKENS");
        },
      ],
    }),
    // Fragments add no level to the response, so none to the depth either.
    maxDepthPlugin({ n: limits.maxDepth, flattenFragments: true, ...reportAs("GRAPHQL_MAX_DEPTH") }),
    maxAliasesPlugin({ n: limits.maxAliases, ...reportAs("GRAPHQL_MAX_ALIASES") }),
    maxDirectivesPlugin({ n: limits.maxDirectives, ...reportAs("GRAPHQL_MAX_DIRECTIVES") }),
    useCostLimit(limits.maxCost),
  ];
}
