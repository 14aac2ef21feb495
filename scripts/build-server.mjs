// `npm start`'s first step (prestart): bundles src/ with esbuild into build/server/, which `npm start` runs
// with plain Node. A TypeScript loader at run time costs the gateway ≈ 60 MB of memory for its whole life;
// this costs ≈ 0.3 s per start. It runs before every start, so what starts is never older than src/.
// Then it builds the dashboard when web/ changed, in this short-lived process rather than the gateway's
// (Vite and its workers would stay in the gateway's memory). Plain JavaScript: it runs without a loader too.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");
// Two folders below the root, as src/<folder>/ is: modules find prisma/migrations, web/ and build/dashboard
// relative to their own place.
const OUT_DIR = path.join(ROOT, "build", "server");

const { outputFiles } = await build({
  entryPoints: {
    main: path.join(ROOT, "src", "main.ts"),
    "dashboard-build": path.join(ROOT, "src", "dashboard", "build.ts"),
  },
  outdir: OUT_DIR,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  // node_modules stay where they are, loaded as Node loads them.
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  write: false,
  logLevel: "warning",
});

await mkdir(OUT_DIR, { recursive: true });
for (const file of outputFiles) {
  // Unchanged sources write nothing (a checkout built beforehand may then be read-only).
  const current = await readFile(file.path).catch(() => null);
  if (current?.equals(file.contents)) continue;
  // Written aside, then renamed: a gateway starting at the same moment never loads half a file.
  const temporary = `${file.path}.${randomBytes(4).toString("hex")}`;
  await writeFile(temporary, file.contents);
  await rename(temporary, file.path);
}

const { buildDashboard } = await import(pathToFileURL(path.join(OUT_DIR, "dashboard-build.mjs")).href);
try {
  const result = await buildDashboard();
  if (result.built) console.log(`dashboard built in ${result.ms} ms`);
} catch (error) {
  // The gateway tries again as it starts, and logs why it failed; the API serves either way.
  console.log(`dashboard build failed: ${error instanceof Error ? error.message : error}`);
}
