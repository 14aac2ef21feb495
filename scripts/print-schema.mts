// Writes schema/schema.graphql from the Pothos schema; test/unit/schema.test.ts fails when it is stale.
import { writeFile } from "node:fs/promises";
import { printSchemaFile, SCHEMA_FILE } from "../src/graphql/print-schema.ts";

await writeFile(SCHEMA_FILE, printSchemaFile());
console.log(`wrote ${SCHEMA_FILE}`);
