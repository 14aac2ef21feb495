// GraphiQL (outside production): Yoga's page, rendered once, and the Content-Security-Policy that allows
// exactly what that page loads. Its assets come from unpkg today (issue 14 serves them locally).
import { createHash } from "node:crypto";
import { renderGraphiQL } from "graphql-yoga";

export const GRAPHIQL_OPTIONS = { title: "Stripe Connect Gateway" };

/** The page Yoga serves at GET /graphql (text/html), the same bytes on every request. */
export const GRAPHIQL_PAGE = renderGraphiQL(GRAPHIQL_OPTIONS);

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

function graphiqlPolicy(page: string): string {
  const assets = /https:\/\/unpkg\.com\/@graphql-yoga\/graphiql@[^/"\s]+\/dist\//.exec(page)?.[0];
  const icon = /<link rel=icon href=(\S+?)>/.exec(page)?.[1];
  if (!assets) throw new Error("GraphiQL's page no longer loads its assets from unpkg: update its CSP");
  const inlineScripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => sha256(match[1]!));
  return [
    "default-src 'none'",
    `script-src ${inlineScripts.join(" ")} ${assets}`,
    // Monaco and React add <style> elements and style attributes as they render.
    `style-src ${assets} 'unsafe-inline'`,
    // The page fetches Monaco's workers' code and starts them from blob: URLs; queries go to /graphql.
    `connect-src 'self' ${assets}monacoeditorwork/`,
    "worker-src blob:",
    `img-src data:${icon ? ` ${icon}` : ""}`,
    "font-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The Content-Security-Policy of GRAPHIQL_PAGE. */
export const GRAPHIQL_CONTENT_SECURITY_POLICY = graphiqlPolicy(GRAPHIQL_PAGE);
