import { DateTimeResolver, JSONResolver, SafeIntResolver } from "graphql-scalars";
import { builder } from "../builder.ts";

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("JSON", JSONResolver);
builder.addScalarType("SafeInt", SafeIntResolver, {
  description:
    "An integer exact up to ±(2^53 − 1), sent as a JSON number. Every amount is one: Stripe amounts reach 12 digits (IDR) and JPY payouts pass 2,147,483,647, far past GraphQL's 32-bit Int.",
});

export const DateTimeRange = builder.inputType("DateTimeRange", {
  fields: (t) => ({
    gte: t.field({ type: "DateTime", required: false }),
    lte: t.field({ type: "DateTime", required: false }),
  }),
});
