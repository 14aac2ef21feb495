import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { builder } from "../builder.ts";

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("JSON", JSONResolver);

export const DateTimeRange = builder.inputType("DateTimeRange", {
  fields: (t) => ({
    gte: t.field({ type: "DateTime", required: false }),
    lte: t.field({ type: "DateTime", required: false }),
  }),
});
