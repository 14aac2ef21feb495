// A deletion event of the same second as the stored version (Stripe's `created` has whole seconds): the
// object is marked deleted, and the tie is settled by reading Stripe, so the stored object is Stripe's
// final one — a canceled subscription keeps being listed by Stripe, with its cancellation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConnectedOrg, type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

describe.each(databaseTargets)("a deletion of the same second as the stored version, on $name", (target) => {
  let world: ConnectWorld;
  let org: ConnectedOrg;

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 1, size: "small" });
    org = await connectedOrg(world, { webhookSigningSecret: WEBHOOK_SECRET });
  }, 120_000);
  afterAll(() => world?.close());

  it("stores the canceled subscription as Stripe has it, not the version before", async () => {
    const prisma = world.gateway.deps.db.prisma;
    const stored = await prisma.stripeSubscription.findFirstOrThrow({
      where: { connectionId: org.connection.rowId, status: { not: "canceled" } },
    });
    const before = stored.raw as { id: string };
    // Early in a second, so that everything below happens within it.
    world.clock.set(Math.ceil(world.clock.now() / 1000) * 1000 + 50);
    const second = world.clock.seconds();
    // The subscription as it was, in an update event of this second …
    const update = makeEvent(
      "customer.subscription.updated",
      { ...before, metadata: { step: "1" } },
      {
        account: org.account,
        created: second,
      },
    );
    expect(
      (await postWebhook(world.gateway.app, org.rawId, JSON.stringify(update), { timestamp: second })).json
        .outcome,
    ).toBe("applied");
    // … then canceled at Stripe within the same second: Stripe's own deletion event.
    const canceled = world.emulator.emulator.control.cancelSubscription(before.id) as { id: string };
    expect(world.clock.seconds()).toBe(second);
    const deletion = makeEvent(
      "customer.subscription.deleted",
      { ...canceled },
      {
        account: org.account,
        created: second,
      },
    );
    const answer = await postWebhook(world.gateway.app, org.rawId, JSON.stringify(deletion), {
      timestamp: second,
    });
    expect(answer.json.outcome).toBe("applied");
    await world.gateway.deps.background.idle();
    const after = await prisma.stripeSubscription.findFirstOrThrow({
      where: { connectionId: org.connection.rowId, stripeId: before.id },
    });
    expect(after.deleted).toBe(true);
    expect(after.raw).toMatchObject({ status: "canceled", canceled_at: second, ended_at: second });
  });
});
