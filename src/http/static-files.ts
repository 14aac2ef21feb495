import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Context } from "hono";

// Browsers refuse scripts and styles of another type under `X-Content-Type-Options: nosniff`.
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".png": "image/png",
  ".woff2": "font/woff2",
};

/** For files whose URL changes whenever their content does (hashed or versioned names). */
export const CACHE_FOREVER = "public, max-age=31536000, immutable";
/** For files served under a fixed URL: the browser asks again each time (cheaply, with the ETag). */
export const CACHE_REVALIDATE = "no-cache";

export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

/** A file's bytes as a response, with an ETag so that a revalidation costs no body. */
export function fileResponse(
  request: Request,
  file: { body: Uint8Array<ArrayBuffer>; type: string; etag: string },
  cacheControl: string,
  headers: Record<string, string> = {},
): Response {
  const common = { etag: file.etag, "cache-control": cacheControl, ...headers };
  if (request.headers.get("if-none-match") === file.etag)
    return new Response(null, { status: 304, headers: common });
  return new Response(file.body, { headers: { "content-type": file.type, ...common } });
}

/**
 * GET handler for a fixed table of URL paths to files on disk: nothing outside the table can be asked for.
 * Files are read when first asked for and kept in memory.
 */
export function serveFiles(files: ReadonlyMap<string, string>, cacheControl: string) {
  const loaded = new Map<string, Promise<{ body: Uint8Array<ArrayBuffer>; type: string; etag: string }>>();
  return async (c: Context) => {
    const file = files.get(c.req.path);
    if (!file) return c.notFound();
    let entry = loaded.get(file);
    if (!entry) {
      entry = readFile(file).then((body) => ({
        body: new Uint8Array(body),
        type: contentType(file),
        etag: `"${body.length.toString(36)}-${path.basename(file)}"`,
      }));
      entry.catch(() => loaded.delete(file));
      loaded.set(file, entry);
    }
    return fileResponse(c.req.raw, await entry, cacheControl);
  };
}
