// Broken HTTP framing around a valid delivery, over a raw socket: lengths shorter, longer, conflicting or
// not numbers, Content-Length beside chunked, bad chunks, bodies that never end, malformed header lines.
import { type Base, validHeader } from "./types.ts";

export type Framing = {
  family: string;
  /** Whether the client half-closes after writing (a body that will never be completed) */
  halfClose: boolean;
  /** How long to wait for an answer; none within it counts as "no answer" */
  waitMs: number;
  request(base: Base, host: string, n: number): Buffer;
};

const head = (base: Base, host: string, lines: string[], requestLine = `POST ${base.path} HTTP/1.1`) =>
  `${requestLine}\r\nHost: ${host}\r\nContent-Type: application/json\r\nStripe-Signature: ${validHeader(base)}\r\n${lines.join("\r\n")}${lines.length ? "\r\n" : ""}\r\n`;

const withBody = (text: string, body: Buffer) => Buffer.concat([Buffer.from(text, "latin1"), body]);

export const FRAMINGS: Framing[] = [
  {
    family: "Content-Length shorter than the body",
    halfClose: false,
    waitMs: 3_000,
    request: (base, host, n) =>
      withBody(
        head(base, host, [`Content-Length: ${Math.max(0, base.body.length - 1 - (n % base.body.length))}`]),
        base.body,
      ),
  },
  {
    family: "Content-Length longer than the body, then the client closes",
    halfClose: true,
    waitMs: 3_000,
    request: (base, host, n) =>
      withBody(head(base, host, [`Content-Length: ${base.body.length + 1 + n}`]), base.body),
  },
  {
    family: "Content-Length longer than the body, client waits",
    halfClose: false,
    waitMs: 1_500,
    request: (base, host, n) =>
      withBody(head(base, host, [`Content-Length: ${base.body.length + 1 + n}`]), base.body),
  },
  {
    family: "Content-Length not a number",
    halfClose: false,
    waitMs: 3_000,
    request: (base, host, n) =>
      withBody(
        head(base, host, [
          `Content-Length: ${["abc", "-1", "1e3", " 12", "0x10", "99999999999999999999"][n % 6]}`,
        ]),
        base.body,
      ),
  },
  {
    family: "two different Content-Lengths",
    halfClose: false,
    waitMs: 3_000,
    request: (base, host) =>
      withBody(
        head(base, host, [`Content-Length: ${base.body.length}`, `Content-Length: ${base.body.length - 5}`]),
        base.body,
      ),
  },
  {
    family: "Content-Length beside Transfer-Encoding: chunked",
    halfClose: false,
    waitMs: 3_000,
    request: (base, host) =>
      withBody(
        head(base, host, [`Content-Length: ${base.body.length}`, "Transfer-Encoding: chunked"]),
        Buffer.concat([
          Buffer.from(`${base.body.length.toString(16)}\r\n`),
          base.body,
          Buffer.from("\r\n0\r\n\r\n"),
        ]),
      ),
  },
  {
    family: "bad chunk size",
    halfClose: false,
    waitMs: 3_000,
    request: (base, host, n) =>
      withBody(
        head(base, host, ["Transfer-Encoding: chunked"]),
        Buffer.concat([
          Buffer.from(`${["zz", "-1", "fffffffffffffffff", ""][n % 4]}\r\n`),
          base.body,
          Buffer.from("\r\n0\r\n\r\n"),
        ]),
      ),
  },
  {
    family: "chunked body that never ends, then the client closes",
    halfClose: true,
    waitMs: 3_000,
    request: (base, host) =>
      withBody(
        head(base, host, ["Transfer-Encoding: chunked"]),
        Buffer.concat([Buffer.from(`${base.body.length.toString(16)}\r\n`), base.body, Buffer.from("\r\n")]),
      ),
  },
  {
    family: "header line without a colon, or with a space before it",
    halfClose: false,
    waitMs: 3_000,
    request: (base, host, n) =>
      withBody(
        head(base, host, [
          `Content-Length: ${base.body.length}`,
          n % 2 ? "Stripe-Signature x" : "Stripe-Signature : x",
        ]),
        base.body,
      ),
  },
  {
    family: "HTTP/1.0 without Host",
    halfClose: false,
    waitMs: 3_000,
    request: (base, _host) =>
      withBody(
        `POST ${base.path} HTTP/1.0\r\nContent-Type: application/json\r\nStripe-Signature: ${validHeader(base)}\r\nContent-Length: ${base.body.length}\r\n\r\n`,
        base.body,
      ),
  },
  {
    family: "other methods on the webhook path",
    halfClose: false,
    waitMs: 3_000,
    request: (base, host, n) =>
      withBody(
        head(
          base,
          host,
          [`Content-Length: ${base.body.length}`],
          `${["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO"][n % 6]} ${base.path} HTTP/1.1`,
        ),
        base.body,
      ),
  },
];
