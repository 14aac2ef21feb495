// A real EventSource (the `eventsource` package, as browsers implement it) following `changes` over a real
// HTTP port behind a TCP proxy that the test cuts: the client reconnects on its own with Last-Event-ID, and
// gets exactly the changes made while it was away — none twice, although its URL still says the old `after`.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, createServer, type Socket, type Server as TcpServer } from "node:net";
import { serve } from "@hono/node-server";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changePayout, newestSequence } from "../helpers/changes.ts";
import { type ConnectedOrg, type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { eventually } from "../helpers/eventually.ts";
import { WEBHOOK_SECRET } from "../helpers/webhooks.ts";

/** A TCP proxy to `target` whose connections can be cut, and which can refuse new ones for a while. */
async function startProxy(target: number) {
  const sockets = new Set<Socket>();
  const listen = (port = 0) =>
    new Promise<TcpServer>((resolve) => {
      const server = createServer((client) => {
        const upstream = connect(target, "127.0.0.1");
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          socket.on("error", () => socket.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, "127.0.0.1", () => resolve(server));
    });
  let server = await listen();
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    /** Drops every connection and refuses new ones until `restore`. */
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      server = await listen(port);
    },
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describe.each(databaseTargets.slice(0, 1))("changes over SSE with a real EventSource ($name)", (target) => {
  let world: ConnectWorld;
  let org: ConnectedOrg;
  let server: Server;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let changes = 0;
  const change = () => changePayout(world, org, `eventsource ${++changes}`);
  const newest = () => newestSequence(world, org.rawId);

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 1, size: "small" });
    org = await connectedOrg(world, { webhookSigningSecret: WEBHOOK_SECRET });
    server = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: world.gateway.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
        resolve(started as Server),
      ) as Server;
    });
    proxy = await startProxy((server.address() as AddressInfo).port);
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await world?.close();
  });

  it("reconnects with Last-Event-ID and receives exactly what it missed", async () => {
    const start = await newest();
    const query = "subscription ($after: String) { changes(after: $after) { sequence type } }";
    const url = new URL(`http://127.0.0.1:${proxy.port}/graphql`);
    url.searchParams.set("query", query);
    url.searchParams.set("variables", JSON.stringify({ after: start }));
    const sentLastEventIds: (string | null)[] = [];
    const source = new EventSource(url, {
      // EventSource sends no headers of its own choosing: the API key and Yoga's CSRF header are added here.
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        sentLastEventIds.push(headers.get("last-event-id"));
        headers.set("authorization", `Bearer ${org.apiKey}`);
        headers.set("x-graphql-yoga-csrf", "1");
        return fetch(input, { ...init, headers });
      },
    });
    const received: string[] = [];
    source.addEventListener("next", (event) => {
      received.push(JSON.parse(event.data).data.changes.sequence);
    });
    try {
      await eventually(() => source.readyState === EventSource.OPEN, { what: "the stream is open" });
      await change();
      await eventually(() => received.length === 1, { what: "the first change arrives" });
      expect(received).toEqual([String(BigInt(start) + 1n)]);

      await proxy.cut();
      for (let i = 0; i < 5; i++) await change();
      await proxy.restore();
      await eventually(() => received.length >= 6, { what: "the missed changes arrive", timeoutMs: 20_000 });
      await change();
      await eventually(() => received.length >= 7, { what: "a live change after the reconnect" });
      expect(received).toEqual(Array.from({ length: 7 }, (_, i) => String(BigInt(start) + BigInt(i) + 1n)));
      expect(sentLastEventIds[0]).toBeNull();
      expect(sentLastEventIds.at(-1)).toBe(received[0]);
    } finally {
      source.close();
    }
  }, 60_000);
});
