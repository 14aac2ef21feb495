import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed documents for the tests and the dashboard: `graphql(`…`)` calls in test/ and web/src/ are
// checked against schema/schema.graphql and typed in test/graphql/ and web/src/graphql/.
const config: CodegenConfig = {
  schema: "schema/schema.graphql",
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    "test/graphql/": {
      documents: ["test/**/*.ts", "!test/graphql/**"],
      preset: "client",
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown", SafeInt: "number" },
      },
      presetConfig: { fragmentMasking: false },
    },
    // The browser bundle sends documents as strings: no graphql-js in it.
    "web/src/graphql/": {
      documents: ["web/src/**/*.{ts,tsx}", "!web/src/graphql/**"],
      preset: "client",
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        documentMode: "string",
        scalars: { DateTime: "string", JSON: "unknown", SafeInt: "number" },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
