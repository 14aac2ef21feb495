// One attempt against a real HTTP server: 2xx delivers; a 3xx is a failure and its Location is never
// followed; 410 and Retry-After are read; an endpoint that never answers times out; two secrets sign.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSigningSecret } from "../../src/feed/webhooks/endpoints.ts";
import { createSender } from "../../src/feed/webhooks/send.ts";

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

describe("sending one attempt", () => {
  const requests: { path: string; headers: IncomingMessage["headers"]; body: string }[] = [];
  let handler: Handler = (_request, response) => response.writeHead(204).end();
  let base = "";
  const server = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    requests.push({ path: request.url ?? "", headers: request.headers, body });
    handler(request, response);
  });
  const sender = createSender({ policy: { production: false, allowPrivate: false }, timeoutMs: 300 });
  const secrets = [newSigningSecret(), newSigningSecret()];
  const send = (path = "/hooks") =>
    sender.send({
      url: `${base}${path}`,
      messageId: "msg_test_1",
      body: '{"type":"test.ping"}',
      secrets,
      at: new Date(),
    });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    sender.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("delivers on a 2xx, signed so that either secret verifies it", async () => {
    handler = (_request, response) => response.writeHead(200).end("ok");
    const outcome = await send();
    expect(outcome).toMatchObject({ delivered: true, statusCode: 200, error: null, gone: false });
    const { headers, body } = requests.at(-1)!;
    expect(headers["webhook-id"]).toBe("msg_test_1");
    expect(String(headers["webhook-signature"]).split(" ")).toHaveLength(2);
    for (const secret of secrets)
      expect(new Webhook(secret).verify(body, headers as Record<string, string>)).toEqual({
        type: "test.ping",
      });
  });

  it("fails on a redirect without following it", async () => {
    handler = (_request, response) => response.writeHead(302, { location: `${base}/elsewhere` }).end();
    const before = requests.length;
    const outcome = await send();
    expect(outcome).toMatchObject({ delivered: false, statusCode: 302 });
    expect(outcome.error).toMatch(/redirects are not followed \(Location: .*\/elsewhere\)/);
    expect(requests.slice(before).map((request) => request.path)).toEqual(["/hooks"]);
  });

  it("reads 410 Gone and a 429's Retry-After, and keeps the start of an error answer", async () => {
    handler = (_request, response) => response.writeHead(410).end("endpoint removed");
    expect(await send()).toMatchObject({ gone: true, statusCode: 410, error: "HTTP 410: endpoint removed" });
    handler = (_request, response) => response.writeHead(429, { "retry-after": "30" }).end();
    expect(await send()).toMatchObject({ delivered: false, statusCode: 429, retryAfterMs: 30_000 });
  });

  it("gives up on an endpoint that does not answer within the timeout", async () => {
    handler = () => {};
    const outcome = await send();
    expect(outcome).toMatchObject({ delivered: false, statusCode: null });
    expect(outcome.error).toBe("timed out after 0.3 s without an answer");
  });

  it("says why a refused connection failed", async () => {
    const outcome = await sender.send({
      url: "http://127.0.0.1:1/hooks",
      messageId: "msg_test_2",
      body: "{}",
      secrets,
      at: new Date(),
    });
    expect(outcome.error).toMatch(/^ECONNREFUSED/);
  });
});
