// What a response must never show: stack traces, file paths, Prisma, SQL or driver messages, JavaScript
// error names, internal error fields. A match that also appears in the request (an echoed input) is the
// caller's own text and does not count. "Unexpected error." is the masked form, counted separately.
export const LEAK_PATTERNS: { name: string; pattern: RegExp }[] = [
  { name: "stack trace", pattern: /\n\s+at |\bat [\w$.<>]+ \((?:file|node):|\bat (?:file|node):\/\//i },
  { name: "file path", pattern: /\/work\/|node_modules|file:\/\/|[\w-]+\.(?:ts|js|mjs):\d+/ },
  { name: "Prisma", pattern: /prisma|Invalid `[^`]*` invocation|\bP[1-3]\d{3}\b/i },
  {
    name: "SQL",
    pattern:
      /\bSELECT\b[\s\S]{0,200}\bFROM\b|\bINSERT INTO\b|syntax error at or near|relation "[^"]+" does not exist|duplicate key value|violates [a-z -]*constraint|invalid input syntax for/i,
  },
  {
    name: "driver",
    pattern: /ECONNREFUSED|ECONNRESET|ETIMEDOUT|PostgreSQL|PGlite|postgres(?:ql)?:\/\/|ioredis|redis:\/\//i,
  },
  {
    name: "JavaScript error",
    pattern:
      /\b(?:TypeError|ReferenceError|RangeError|AggregateError)\b|Maximum call stack|Cannot read propert/,
  },
  { name: "internal error field", pattern: /"(?:stack|originalError|stacktrace)"\s*:/ },
];

export const MASKED = "Unexpected error.";

/** The leak patterns `text` matches that `request` does not explain; each with the matching text. */
export function leaksIn(text: string, request: string): { name: string; match: string }[] {
  const found: { name: string; match: string }[] = [];
  for (const { name, pattern } of LEAK_PATTERNS) {
    const match = pattern.exec(text);
    if (match && !request.includes(match[0])) found.push({ name, match: match[0].slice(0, 120) });
  }
  return found;
}
