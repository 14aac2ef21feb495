import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../graphql/gql.js";
import {
  type ConnectWorld,
  followAuthorization,
  StartConnection,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { subscribeSSE } from "../helpers/sse.ts";

const ConnectionUpdated = graphql(`
  subscription ConnectionUpdated($connectionId: ID) {
    connectionUpdated(connectionId: $connectionId) { id status stripeAccountId }
  }
`);

describe.each(databaseTargets.slice(0, 1))("connectionUpdated on $name", (target) => {
  let world: ConnectWorld;
  let org: { apiKey: string };

  beforeAll(async () => {
    world = await startConnectWorld(target);
    org = await world.createConfiguredOrg("Live status");
  });
  afterAll(() => world?.close());

  it("streams a connection's status changes in order over SSE", async () => {
    const result = await world.gateway.gql(StartConnection, { input: {} }, org.apiKey);
    const started = result.data?.startStripeConnection;
    if (started?.__typename !== "StartStripeConnectionSuccess") throw new Error(JSON.stringify(result));
    const stream = await subscribeSSE(
      world.gateway.app,
      ConnectionUpdated,
      { connectionId: started.connection.id },
      org.apiKey,
    );
    try {
      expect(stream.status).toBe(200);
      const first = stream.next();
      await followAuthorization(world, started.authorizationUrl);
      expect((await first).data?.connectionUpdated.status).toBe("SYNCING");
      const second = await stream.next();
      expect(second.data?.connectionUpdated).toMatchObject({ id: started.connection.id, status: "READY" });
      expect(second.data?.connectionUpdated.stripeAccountId).toMatch(/^acct_/);
    } finally {
      stream.close();
    }
  });

  it("refuses at subscribe time a connection of another org, and anonymous subscribers", async () => {
    const mine = await world.gateway.gql(StartConnection, { input: {} }, org.apiKey);
    const id =
      mine.data?.startStripeConnection.__typename === "StartStripeConnectionSuccess"
        ? mine.data.startStripeConnection.connection.id
        : "";
    const stranger = await world.createOrg("Stranger");
    const stream = await subscribeSSE(
      world.gateway.app,
      ConnectionUpdated,
      { connectionId: id },
      stranger.apiKey,
    );
    const event = await stream.next();
    expect(event.errors?.[0]?.message).toBe("No such connection in this org.");
    stream.close();
    const anonymous = await world.gateway.app.fetch(
      new Request("http://gateway.test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ query: "subscription { connectionUpdated { id } }" }),
      }),
    );
    expect(await anonymous.text()).toContain("UNAUTHENTICATED");
  });
});
