import { builder } from "../builder.ts";
import { readableByConnection } from "../scope.ts";
import { addConnectionList, connectionGlobalId, connectionTypeOf } from "../stripe-objects.ts";

const StripeEventRef = builder.prismaNode("StripeEvent", {
  id: { field: "id" },
  nullable: true,
  // events are the org's, whether or not they matched a connection (a browser token: its connections')
  findUnique: (id, ctx) => ({ id, orgId: ctx.org?.id ?? "", ...readableByConnection(ctx) }),
  // Select mode: only the columns the selection needs (`raw` only when asked).
  select: { id: true },
  fields: (t) => ({
    stripeId: t.exposeString("stripeId"),
    type: t.exposeString("type"),
    connectionId: t.id({
      nullable: true,
      select: { connectionId: true },
      resolve: (o) => (o.connectionId ? connectionGlobalId(o.connectionId) : null),
    }),
    account: t.exposeString("account", { nullable: true }),
    livemode: t.exposeBoolean("livemode"),
    created: t.expose("created", { type: "DateTime" }),
    receivedAt: t.expose("receivedAt", { type: "DateTime" }),
    source: t.exposeString("source", { description: '"webhook" or "poll"' }),
    appliedAt: t.expose("appliedAt", { type: "DateTime", nullable: true }),
    raw: t.expose("raw", { type: "JSON" }),
  }),
});

addConnectionList({
  field: "events",
  model: "StripeEvent",
  connectionType: connectionTypeOf("StripeEvent", StripeEventRef),
  prefixes: ["evt_"],
  filters: [{ arg: "types", kind: "values", column: "type" }],
  cursorScope: (_connectionId, ctx) => ctx.org?.id ?? "",
});
