import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionQuery, type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { eventFixture, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

describe.each(databaseTargets)("the merchant uninstalling the app, on $name", (target) => {
  let world: ConnectWorld;

  beforeAll(async () => {
    world = await startConnectWorld(target, { size: "tiny", accounts: 1 });
  }, 60_000);
  afterAll(() => world?.close());

  it("moves the connection to DISCONNECTED and drops its tokens on account.application.deauthorized", async () => {
    const {
      org,
      account: accountId,
      connection,
    } = await connectedOrg(world, { name: "Uninstalled", webhookSigningSecret: WEBHOOK_SECRET });
    world.emulator.emulator.control.uninstallApp(accountId);
    const keys = world.emulator.emulator.platforms[0]!.keys.test;
    const now = Math.floor(world.clock.now() / 1000);
    const event = eventFixture("account.application.deauthorized", {
      account: accountId,
      created: now,
      object: { id: keys.clientId, name: "Emulator Platform" },
    });
    const response = await postWebhook(world.gateway.app, org.rawId, JSON.stringify(event), {
      timestamp: now,
    });
    expect(response.status).toBe(200);
    const after = (await world.gateway.gql(ConnectionQuery, { id: connection.id }, org.apiKey)).data
      ?.stripeConnection;
    expect(after?.status).toBe("DISCONNECTED");
    expect(after?.lastError).toContain("removed the app's access");
    const row = await world.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({
      where: { id: connection.rowId },
    });
    expect(row.accessTokenCiphertext).toBeNull();
    expect(row.refreshTokenCiphertext).toBeNull();
  });
});
