// Types of pg-schema-adapter.mjs for the TypeScript that imports it (scripts/migrations.ts).
import type { PrismaPg } from "@prisma/adapter-pg";
import type { ClientConfig } from "pg";

/** @prisma/adapter-pg's factory with the schema engine's workarounds; see pg-schema-adapter.mjs. */
export declare function schemaEnginePgFactory(
  connection: string | ClientConfig,
  options?: { shadow?: string | ClientConfig },
): PrismaPg & {
  /** Drops the shadow databases the engine did not dispose of, then ends the main pool. */
  close(): Promise<void>;
};
