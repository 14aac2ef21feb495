import { builder } from "./builder.ts";
import "./types/scalars.ts";
import "./types/errors.ts";
import "./types/org.ts";
import "./types/stripe-config.ts";

builder.queryType({});
builder.mutationType({});

export const schema = builder.toSchema({ sortSchema: false });
