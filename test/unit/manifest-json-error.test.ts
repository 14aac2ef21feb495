import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findJsonSyntaxError, lineAndColumn } from "../../src/manifest/json-error.ts";

function parseError(text: string): Error | null {
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    return error as Error;
  }
}

describe("findJsonSyntaxError", () => {
  it("accepts exactly what JSON.parse accepts, and agrees on the position wherever V8 names one", () => {
    fc.assert(
      fc.property(
        fc.json(),
        fc.nat(),
        fc.string({ maxLength: 2 }),
        fc.boolean(),
        (json, at, insert, remove) => {
          expect(findJsonSyntaxError(json)).toBeNull();
          const p = at % (json.length + 1);
          const damaged = remove
            ? json.slice(0, p) + json.slice(p + 1)
            : json.slice(0, p) + insert + json.slice(p);
          const error = parseError(damaged);
          const found = findJsonSyntaxError(damaged);
          expect(found === null).toBe(error === null);
          const position = error && /at position (\d+)/.exec(error.message)?.[1];
          if (position) expect(found?.offset).toBe(Number(position));
          // V8's "Unexpected token 'x'" messages name the character without its position.
          const token = error && /^Unexpected token '(.)'/u.exec(error.message)?.[1];
          if (token) expect(damaged[found!.offset]).toBe(token);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("counts lines and columns from 1, in characters", () => {
    // 😀 is two UTF-16 code units but one character to an editor
    const text = '{\n  "name": "Café",\n  "x": ["😀", nope]\n}';
    expect(findJsonSyntaxError(text)).toMatchObject({
      line: 3,
      column: 15,
      message: "expected 'null', found \"o\"",
    });
    expect(lineAndColumn("ab\n😀x", 6)).toEqual({ line: 2, column: 3 });
  });

  it("survives deeply nested input", () => {
    expect(findJsonSyntaxError(`${"[".repeat(200_000)}${"]".repeat(200_000)}`)).toBeNull();
    expect(findJsonSyntaxError("[".repeat(200_000))).toMatchObject({ offset: 200_000 });
  });
});
