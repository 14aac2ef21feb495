/** Where a JSON text stops being JSON: 1-based line and column, and what was expected there. */
export type JsonSyntaxError = { offset: number; line: number; column: number; message: string };

type Container = "{" | "[";
type State = "value" | "key" | "colon" | "after";

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const HEX_DIGIT = /^[0-9a-fA-F]$/;

/** The 1-based line and column (in characters) of an offset into text. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return {
    line: before.split("\n").length,
    column: Array.from(before.slice(lineStart)).length + 1,
  };
}

function describe(text: string, offset: number): string {
  const char = text[offset];
  return char === undefined ? "the end of the file" : JSON.stringify(char);
}

/**
 * Finds the first syntax error of a JSON text (RFC 8259, as JSON.parse reads it), or null when it
 * is valid. Node 20's JSON.parse does not always say where it failed ("Unexpected token '}', … is
 * not valid JSON"), so the position comes from this scanner. It keeps an explicit stack, so deeply
 * nested input cannot overflow the call stack.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  const stack: Container[] = [];
  let state: State = "value";
  let mayClose = false; // right after "{" or "[": the container may be empty
  let i = 0;

  const fail = (offset: number, expected: string): JsonSyntaxError => ({
    offset,
    ...lineAndColumn(text, offset),
    message: `expected ${expected}, found ${describe(text, offset)}`,
  });

  for (;;) {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
    const char = text[i];
    const top = stack.at(-1);

    if (state === "after") {
      if (top === undefined)
        return char === undefined ? null : fail(i, "the end of the file after the JSON value");
      const closer = top === "{" ? "}" : "]";
      if (char === ",") {
        state = top === "{" ? "key" : "value";
        mayClose = false;
        i++;
      } else if (char === closer) {
        stack.pop();
        i++;
      } else {
        return fail(
          i,
          top === "{" ? "',' or '}' after a property value" : "',' or ']' after an array element",
        );
      }
      continue;
    }

    if (state === "colon") {
      if (char !== ":") return fail(i, "':' after a property name");
      state = "value";
      i++;
      continue;
    }

    if (mayClose && char === (top === "{" ? "}" : "]")) {
      stack.pop();
      mayClose = false;
      state = "after";
      i++;
      continue;
    }
    mayClose = false;

    if (state === "key") {
      if (char !== '"') return fail(i, "a double-quoted property name");
      const end = scanString(text, i);
      if (typeof end !== "number") return end;
      i = end;
      state = "colon";
      continue;
    }

    // state === "value"
    if (char === "{" || char === "[") {
      stack.push(char);
      state = char === "{" ? "key" : "value";
      mayClose = true;
      i++;
      continue;
    }
    const end =
      char === '"'
        ? scanString(text, i)
        : char === "-" || (char !== undefined && char >= "0" && char <= "9")
          ? scanNumber(text, i)
          : scanLiteral(text, i);
    if (typeof end !== "number") return end;
    i = end;
    state = "after";
  }

  function scanString(source: string, start: number): number | JsonSyntaxError {
    let at = start + 1;
    while (at < source.length) {
      const c = source[at]!;
      if (c === '"') return at + 1;
      if (c < " ")
        return fail(at, "a closing '\"' (a string cannot contain a line break or control character)");
      if (c === "\\") {
        const next = source[at + 1];
        if (next === "u") {
          for (let k = at + 2; k < at + 6; k++) {
            if (!HEX_DIGIT.test(source[k] ?? "")) return fail(k, "four hex digits after \\u");
          }
          at += 6;
          continue;
        }
        if (next === undefined || !ESCAPES.has(next))
          return fail(at + 1, 'a valid escape (\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\u)');
        at += 2;
        continue;
      }
      at++;
    }
    return fail(source.length, `a closing '"' for the string at ${where(source, start)}`);
  }

  function scanNumber(source: string, start: number): number | JsonSyntaxError {
    const isDigit = (at: number) => source[at] !== undefined && source[at]! >= "0" && source[at]! <= "9";
    const digits = (at: number) => {
      while (isDigit(at)) at++;
      return at;
    };
    let at = source[start] === "-" ? start + 1 : start;
    if (!isDigit(at)) return fail(at, "a digit after '-'");
    // a leading zero stands alone: "01" ends the number after the "0"
    at = source[at] === "0" ? at + 1 : digits(at);
    if (source[at] === ".") {
      if (!isDigit(at + 1)) return fail(at + 1, "a digit after the decimal point");
      at = digits(at + 1);
    }
    if (source[at] === "e" || source[at] === "E") {
      at += source[at + 1] === "+" || source[at + 1] === "-" ? 2 : 1;
      if (!isDigit(at)) return fail(at, "a digit in the exponent");
      at = digits(at);
    }
    return at;
  }

  function scanLiteral(source: string, start: number): number | JsonSyntaxError {
    for (const word of ["true", "false", "null"]) {
      if (source[start] !== word[0]) continue;
      for (let k = 1; k < word.length; k++) {
        if (source[start + k] !== word[k]) return fail(start + k, `'${word}'`);
      }
      return start + word.length;
    }
    return fail(start, "a value (an object, array, string, number, true, false or null)");
  }
}

function where(text: string, offset: number): string {
  const { line, column } = lineAndColumn(text, offset);
  return `line ${line}, column ${column}`;
}
