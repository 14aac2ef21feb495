// One HTTP/1.1 exchange over a raw socket, for requests node:http would refuse to send (wrong or
// conflicting lengths, broken chunks): the bytes go as given, and the first answer's status is read.
import { connect } from "node:net";
import type { Transcript } from "./http.ts";

export type RawAnswer = { status: number; head: string; body: string; ms: number };

export function rawExchange(
  url: string,
  bytes: Buffer,
  options: { transcript: Transcript; path: string; waitMs: number; halfClose: boolean },
): Promise<RawAnswer & { record: number }> {
  const { hostname, port } = new URL(url);
  const began = performance.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const textual = received.toString("latin1");
      const split = textual.indexOf("\r\n\r\n");
      const head = split >= 0 ? textual.slice(0, split) : textual;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const body = split >= 0 ? received.subarray(split + 4).toString("utf8") : "";
      const record = options.transcript.record({
        source: "gateway",
        method: "RAW",
        path: options.path,
        status,
        headers: head,
        body,
      });
      resolve({ status, head, body, ms: performance.now() - began, record });
    };
    const timer = setTimeout(settle, options.waitMs);
    socket.on("connect", () => {
      socket.write(bytes);
      if (options.halfClose) socket.end();
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const textual = received.toString("latin1");
      const split = textual.indexOf("\r\n\r\n");
      if (split < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(textual.slice(0, split))?.[1] ?? Number.NaN);
      if (Number.isFinite(length) && received.length >= split + 4 + length) settle();
    });
    socket.on("error", settle);
    socket.on("close", settle);
  });
}
