// `.env.example` is what a new user copies to `.env`: it must start the gateway as it is, and name
// every variable the README's table documents.
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";

const example = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe(".env.example", () => {
  it("is a valid environment as copied (parsed the way Node's --env-file does)", () => {
    expect(() => loadConfig(parseEnv(example))).not.toThrow();
  });

  it("names every variable of README's environment table, set or commented out", () => {
    const start = readme.indexOf("## Environment variables");
    const table = readme.slice(start, readme.indexOf("\n\n", readme.indexOf("| variable |", start)));
    const documented = [...table.matchAll(/^\| (.+?) \|/gm)].flatMap(([, cell]) =>
      [...cell!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!),
    );
    expect(documented.length).toBeGreaterThan(20);
    const named = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));
    expect(documented.filter((variable) => !named.has(variable))).toEqual([]);
  });
});
