import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed documents for the tests (and an example for frontends): `graphql(`…`)` calls in test/ are
// checked against schema/schema.graphql and typed in test/graphql/.
const config: CodegenConfig = {
  schema: "schema/schema.graphql",
  documents: ["test/**/*.ts", "!test/graphql/**"],
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    "test/graphql/": {
      preset: "client",
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown", SafeInt: "number" },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
