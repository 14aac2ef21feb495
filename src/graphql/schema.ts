import { builder } from "./builder.ts";
import "./types/scalars.ts";
import "./types/errors.ts";
import "./types/org.ts";
import "./types/stripe-config.ts";
import "./types/stripe-connection.ts";
import "./types/synced-objects.ts";
import "./types/stripe-event.ts";
import "./types/stripe-account.ts";
import "./types/manifest.ts";
import "./types/credentials.ts";
import "./types/subscriptions.ts";
import "./types/changes.ts";
import "./types/webhook-endpoints.ts";

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

export const schema = builder.toSchema({ sortSchema: false });
