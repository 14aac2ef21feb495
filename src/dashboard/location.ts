// Where the dashboard's builds live and which one is served: shared by the build (build.ts) and the HTTP
// routes that serve it (http/dashboard.ts), which never load Vite.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
export const DASHBOARD_SOURCE_DIR = path.join(ROOT, "web");
/** Where builds go (gitignored): one folder per hash of the inputs, and `current` naming the one to serve. */
export const DASHBOARD_BUILD_DIR = path.join(ROOT, "build", "dashboard");
export const DASHBOARD_CURRENT_FILE = path.join(DASHBOARD_BUILD_DIR, "current");
/** The URL path the built files are served under (Vite's `base`); the page itself is served at `/`. */
export const DASHBOARD_ASSETS_PATH = "/dashboard/";

export const isBuildName = (name: string) => /^[0-9a-f]{16}$/.test(name);

export const fileExists = (file: string) =>
  stat(file).then(
    (info) => info.isFile(),
    () => false,
  );

/** The build `current` names, if it is complete. */
export async function currentDashboardBuild(): Promise<{ dir: string; hash: string } | null> {
  const hash = (await readFile(DASHBOARD_CURRENT_FILE, "utf8").catch(() => "")).trim();
  if (!isBuildName(hash)) return null;
  const dir = path.join(DASHBOARD_BUILD_DIR, hash);
  return (await fileExists(path.join(dir, "index.html"))) ? { dir, hash } : null;
}

/** Every file under `dir`, sorted, as absolute paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}
