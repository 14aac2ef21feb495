// Scenario 6: every secret the run knows, looked for in every log line of every gateway process and in
// every answer of the run (status line, headers, body, server-sent events). Each secret is looked for
// whole and by its first and last 16 characters after its prefix (a truncated or partly masked copy);
// the encryption key also in hex and base64url. The one answer that shows a secret on purpose is allowed.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Secret } from "./secrets.ts";

export type ScannedFile = { name: string; path: string; kind: "log" | "answers" };
export type Occurrence = { kind: string; label: string; file: string; line: number; excerpt: string };
export type ScanResults = {
  secrets: Record<string, number>;
  needles: number;
  files: { name: string; lines: number; bytes: number }[];
  occurrences: Occurrence[];
  total: number;
  /** Matches in the answers that show a secret on purpose: proof that the scan sees what is there */
  shownOnPurpose: number;
};

type Needle = { text: string; secret: Secret };

function needlesOf(secret: Secret): Needle[] {
  const prefix = /^[a-z]+_(?:[a-z]+_)?/.exec(secret.value)?.[0].length ?? 0;
  const texts = new Set([secret.value]);
  if (secret.value.length - prefix >= 32) {
    texts.add(secret.value.slice(prefix, prefix + 16));
    texts.add(secret.value.slice(-16));
  }
  return [...texts].map((text) => ({ text, secret }));
}

/** The line around the occurrence, with every secret in it replaced by its kind. */
const excerpt = (line: string, needle: Needle, needles: Needle[]) => {
  const at = line.indexOf(needle.text);
  let text = line.slice(Math.max(0, at - 80), at + needle.text.length + 80);
  for (const other of needles) text = text.replaceAll(other.text, `<${other.secret.kind}>`);
  return text;
};

export async function scanForSecrets(secrets: Secret[], files: ScannedFile[]): Promise<ScanResults> {
  const needles = secrets.flatMap(needlesOf);
  const results: ScanResults = {
    secrets: {},
    needles: needles.length,
    files: [],
    occurrences: [],
    total: 0,
    shownOnPurpose: 0,
  };
  for (const secret of secrets) results.secrets[secret.kind] = (results.secrets[secret.kind] ?? 0) + 1;
  for (const file of files) {
    const bytes = (await stat(file.path).catch(() => ({ size: 0 }))).size;
    let lines = 0;
    if (bytes > 0) {
      const reader = createInterface({
        input: createReadStream(file.path, "utf8"),
        crlfDelay: Number.POSITIVE_INFINITY,
      });
      for await (const line of reader) {
        lines += 1;
        const answer = file.kind === "answers" ? Number(/^\{"n":(\d+),/.exec(line)?.[1]) : Number.NaN;
        for (const needle of needles) {
          if (!line.includes(needle.text)) continue;
          if (needle.secret.shownIn === answer) {
            results.shownOnPurpose += 1;
            continue;
          }
          results.total += 1;
          if (results.occurrences.length < 50)
            results.occurrences.push({
              kind: needle.secret.kind,
              label: needle.secret.label,
              file: file.name,
              line: lines,
              excerpt: excerpt(line, needle, needles),
            });
        }
      }
    }
    results.files.push({ name: file.name, lines, bytes });
  }
  return results;
}
