// What production keeps from callers who do not know the schema already: introspection, and the hints at
// names that graphql-js adds to its errors ("Did you mean …?").
import { type ExecutionResult, type GraphQLError, NoSchemaIntrospectionCustomRule } from "graphql";
import { handleStreamOrSingleExecutionResult, type Plugin } from "graphql-yoga";

/**
 * Refuses `__schema` and `__type` (not `__typename`) on every transport. @graphql-yoga/plugin-disable-
 * introspection decides per HTTP request in onRequestParse, which WebSocket operations never go through:
 * they would still be answered.
 */
export function useNoIntrospection(): Plugin {
  return {
    onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
  };
}

/** graphql-js appends its suggestions last: " Did you mean "payouts"?", "… the enum value "READY"?" */
const SUGGESTION = / ?Did you mean .*\?$/s;

function hideSuggestion(error: GraphQLError): void {
  if (SUGGESTION.test(error.message)) error.message = error.message.replace(SUGGESTION, "");
}

const hideInResult = ({ result }: { result: ExecutionResult }) => {
  for (const error of result.errors ?? []) hideSuggestion(error);
};

/**
 * Drops the suggestions from validation errors (unknown fields, arguments, types, enum values) and from
 * execution errors (variables' values are checked there). graphql-armor's block-field-suggestions covers
 * validation only, and misses enum values.
 */
export function useNoSuggestions(): Plugin {
  return {
    onValidate:
      () =>
      ({ result }) => {
        for (const error of result) hideSuggestion(error);
      },
    onExecute: () => ({
      onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, hideInResult),
    }),
    onSubscribe: () => ({
      onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, hideInResult),
    }),
  };
}
