// Runs every benchmark in its own process, one after another: npm run bench
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const benches = readdirSync(new URL(".", import.meta.url)).filter(
  (file) => file.endsWith(".ts") && !["run.ts", "setup.ts"].includes(file),
);
let failed = 0;
for (const file of benches.sort()) {
  console.log(`\n=== bench/${file}`);
  const result = spawnSync(process.execPath, ["--import", "tsx", `bench/${file}`], { stdio: "inherit" });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
