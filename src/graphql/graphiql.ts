// GraphiQL (outside production): Yoga's page, rendered once, loading its scripts, styles and Monaco's
// workers from the gateway itself (the @graphql-yoga/graphiql package, served by app.ts) instead of unpkg,
// so that it works offline; and the Content-Security-Policy that allows exactly what that page loads.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { renderGraphiQL } from "graphql-yoga";

const require = createRequire(import.meta.url);
const PACKAGE_JSON = require.resolve("@graphql-yoga/graphiql/package.json");
const { version } = require(PACKAGE_JSON) as { version: string };
const DIST = path.join(path.dirname(PACKAGE_JSON), "dist");

export const GRAPHIQL_OPTIONS = { title: "Stripe Connect Gateway" };

/** Where the gateway serves GraphiQL's files: the version is in the path, so browsers may keep them. */
export const GRAPHIQL_ASSETS_PATH = `/graphiql/${version}/`;

/** The page's own URL for each file of the package's dist/ it loads → the file on disk. */
export const GRAPHIQL_ASSET_FILES: ReadonlyMap<string, string> = new Map(
  [
    "yoga-graphiql.umd.js",
    "graphiql.css",
    "monacoeditorwork/editor.worker.bundle.js",
    "monacoeditorwork/json.worker.bundle.js",
    // sic: the package names it with two dots
    "monacoeditorwork/graphql.worker..bundle.js",
  ].map((file) => [`${GRAPHIQL_ASSETS_PATH}${file}`, path.join(DIST, file)]),
);

// The gateway's icon, inline: Yoga's points at GitHub.
const ICON = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#635bff"/></svg>',
)}`;

function localPage(page: string): string {
  const local = page
    .replace(/https:\/\/unpkg\.com\/@graphql-yoga\/graphiql@[^/"\s]+\/dist\//g, GRAPHIQL_ASSETS_PATH)
    .replace(/<link rel=icon href=\S+?>/, `<link rel=icon href=${ICON}>`);
  const remote = /https?:\/\/[^\s"'>]+/.exec(local.replaceAll("http://www.w3.org/2000/svg", ""));
  if (remote)
    throw new Error(`GraphiQL's page loads ${remote[0]}: serve it locally (src/graphql/graphiql.ts)`);
  for (const url of local.matchAll(new RegExp(`${GRAPHIQL_ASSETS_PATH}[^"\\s>]+`, "g"))) {
    if (!GRAPHIQL_ASSET_FILES.has(url[0]))
      throw new Error(`GraphiQL's page loads ${url[0]}, which is not served`);
  }
  return local;
}

/** The page Yoga serves at GET /graphql (text/html), the same bytes on every request. */
export const GRAPHIQL_PAGE = localPage(renderGraphiQL(GRAPHIQL_OPTIONS));

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

function graphiqlPolicy(page: string): string {
  const inlineScripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => sha256(match[1]!));
  return [
    "default-src 'none'",
    `script-src ${inlineScripts.join(" ")} 'self'`,
    // Monaco and React add <style> elements and style attributes as they render.
    "style-src 'self' 'unsafe-inline'",
    // The page fetches Monaco's workers' code and starts them from blob: URLs; queries go to /graphql.
    "connect-src 'self'",
    "worker-src blob:",
    "img-src 'self' data:",
    "font-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The Content-Security-Policy of GRAPHIQL_PAGE. */
export const GRAPHIQL_CONTENT_SECURITY_POLICY = graphiqlPolicy(GRAPHIQL_PAGE);
