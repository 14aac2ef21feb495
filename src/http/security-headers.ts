import type { Context, MiddlewareHandler } from "hono";
import { PAGE_CONTENT_SECURITY_POLICY } from "./html-page.ts";

function setHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    // A fetched Response's headers are immutable: Hono copies the response to set one.
    c.header(name, value);
  }
}

/**
 * Security headers for browsers. Every response: `X-Content-Type-Options: nosniff`. Every HTML page also:
 * a Content-Security-Policy (the one its path is given here, else the gateway's own pages' policy, unless
 * the page set its own), frame denial for old browsers (`X-Frame-Options`; the policies say it again with
 * `frame-ancestors`) and `Referrer-Policy: no-referrer` unless the page chose one.
 */
export function securityHeaders(policyByPath: Readonly<Record<string, string>> = {}): MiddlewareHandler {
  return async (c, next) => {
    await next();
    setHeader(c, "x-content-type-options", "nosniff");
    const type = c.res.headers.get("content-type");
    if (!type?.toLowerCase().startsWith("text/html")) return;
    if (!c.res.headers.has("content-security-policy")) {
      setHeader(c, "content-security-policy", policyByPath[c.req.path] ?? PAGE_CONTENT_SECURITY_POLICY);
    }
    setHeader(c, "x-frame-options", "DENY");
    if (!c.res.headers.has("referrer-policy")) setHeader(c, "referrer-policy", "no-referrer");
  };
}
