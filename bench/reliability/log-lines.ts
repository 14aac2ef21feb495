// Reading the gateways' own logs (pino JSON lines): what they logged at error level, and why they masked
// the answers the GraphQL fuzzing saw as "Unexpected error.".
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Tally } from "./pool.ts";

type Line = { level?: number; msg?: string; requestId?: string; err?: { type?: string; message?: string } };

async function* lines(file: string): AsyncGenerator<Line> {
  const reader = createInterface({
    input: createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const text of reader) {
    if (!text.startsWith("{")) continue;
    try {
      yield JSON.parse(text) as Line;
    } catch {}
  }
}

const describe = (line: Line) =>
  `${line.msg ?? "?"}${line.err ? ` — ${line.err.type ?? "Error"}: ${(line.err.message ?? "").replace(/\s+/g, " ").trim().slice(0, 160)}` : ""}`;

/** Lines at error level or above (pino 50+), by message and error. */
export async function errorLines(file: string): Promise<Tally> {
  const tally = new Tally();
  for await (const line of lines(file)) if ((line.level ?? 0) >= 50) tally.add(describe(line));
  return tally;
}

/** What was logged for the given request ids at error level: the causes behind masked answers. */
export async function causesOf(file: string, requestIds: Set<string>): Promise<Tally> {
  const tally = new Tally();
  if (requestIds.size === 0) return tally;
  for await (const line of lines(file))
    if (line.requestId && requestIds.has(line.requestId) && (line.level ?? 0) >= 50)
      tally.add(describe(line));
  return tally;
}
