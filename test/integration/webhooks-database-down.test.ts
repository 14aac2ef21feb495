import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowId } from "../../src/stripe/resources.ts";
import {
  ConfigureStripe,
  type ConnectWorld,
  CreateOrgDoc,
  connectedOrg,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { eventually } from "../helpers/eventually.ts";
import { ADMIN_KEY, startTestGateway } from "../helpers/gateway.ts";
import { eventFixture, makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

describe("a webhook while the embedded database is closed", () => {
  it("answers 503 (so Stripe retries), never 2xx", async () => {
    const gateway = await startTestGateway(databaseTargets[0]!);
    const created = (await gateway.gql(CreateOrgDoc, { name: "Closed" }, ADMIN_KEY)).data?.createOrg;
    if (!created || !("apiKey" in created)) throw new Error("createOrg failed");
    const orgId = created.org.redirectUri.split("/")[5]!;
    await gateway.gql(
      ConfigureStripe,
      { input: { clientId: "ca_test123", secretKey: "sk_test_123", webhookSigningSecret: WEBHOOK_SECRET } },
      created.apiKey,
    );
    await gateway.deps.db.close();
    const now = Math.floor(Date.now() / 1000);
    const event = eventFixture("payout.paid", {
      account: "acct_closed",
      created: now,
      object: { id: "po_closed" },
    });
    const response = await postWebhook(gateway.app, orgId, JSON.stringify(event), { timestamp: now });
    expect(response).toMatchObject({ status: 503, json: { error: { code: "EVENT_NOT_STORED" } } });
    expect(gateway.logs()).toContain("stripe webhook not stored");
    await gateway.close().catch(() => {}); // the database is already closed
  });
});

const postgres = databaseTargets.find((target) => target.name === "postgres");

describe.skipIf(!postgres)("a webhook while PostgreSQL refuses connections", () => {
  let world: ConnectWorld;
  let admin: pg.Client;
  let database: string;
  let org: { apiKey: string; rawId: string };
  let connection: { rowId: string; account: string };

  /** Takes the gateway's database away: no new connections, and every open one is terminated. */
  async function setAvailable(available: boolean) {
    await admin.query(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS ${available}`);
    if (!available) {
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [
        database,
      ]);
    }
  }

  beforeAll(async () => {
    world = await startConnectWorld(postgres!, { accounts: 1, seed: "database-down" });
    ({ org, connection } = await connectedOrg(world, {
      name: "Database down",
      webhookSigningSecret: WEBHOOK_SECRET,
    }));
    database = new URL(world.gateway.deps.config.databaseUrl!).pathname.slice(1);
    admin = new pg.Client({ connectionString: postgres!.url! });
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await setAvailable(true).catch(() => {});
    await admin?.end();
    await world?.close();
  });

  it("answers 5xx while the event cannot be stored, and the retried delivery converges", async () => {
    const payout = await world.gateway.deps.db.prisma.stripePayout.findFirstOrThrow({
      where: { connectionId: connection.rowId },
    });
    const event = makeEvent(
      "payout.updated",
      { ...(payout.raw as { id: string }), status: "canceled" },
      { account: connection.account, created: world.clock.seconds() + 1 },
    );
    const body = JSON.stringify(event);

    await setAvailable(false);
    const refused = await postWebhook(world.gateway.app, org.rawId, body, {
      timestamp: world.clock.seconds(),
    });
    expect(refused).toMatchObject({ status: 503, json: { error: { code: "EVENT_NOT_STORED" } } });

    await setAvailable(true);
    // Stripe's retries: the same body, a new timestamp and signature each time. A pooled connection that
    // the outage killed may fail the first one on a loaded machine (another 503): Stripe just retries again.
    const retried = await eventually(
      async () => {
        world.clock.advance(60_000);
        const response = await postWebhook(world.gateway.app, org.rawId, body, {
          timestamp: world.clock.seconds(),
        });
        return response.status === 200 ? response : null;
      },
      { what: "a retried delivery is stored", intervalMs: 200, timeoutMs: 10_000 },
    );
    expect(retried).toEqual({ status: 200, json: { received: true, outcome: "applied" } });
    const prisma = world.gateway.deps.db.prisma;
    const row = await prisma.stripePayout.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, payout.stripeId) },
    });
    expect(row.status).toBe("canceled");
    const stored = await prisma.stripeEvent.findMany({ where: { stripeId: event.id } });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.appliedAt).not.toBeNull();
  });
});
