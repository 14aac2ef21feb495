import { printSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { modelNameOf } from "../../src/db/delegate.ts";
import { getDatamodel } from "../../src/generated/pothos-prisma-types.ts";
import { schema } from "../../src/graphql/schema.ts";
import type { ColumnKind } from "../../src/stripe/columns.ts";
import {
  APPLIED_EVENT_TYPES,
  RESOURCE_BY_KEY,
  RESOURCES,
  type ResourceSpec,
  SINGLETONS,
} from "../../src/stripe/resources.ts";

type Field = { name: string; type: string; isRequired: boolean };
const models = getDatamodel().datamodel.models as unknown as Record<string, { fields: Field[] }>;
const modelOf = (delegate: string) => models[modelNameOf(delegate)];

/** The Prisma column each kind of registry column must be stored in. */
const STORAGE: Record<ColumnKind, { type: string; isRequired: boolean }> = {
  amount: { type: "BigInt", isRequired: true },
  text: { type: "String", isRequired: true },
  optionalText: { type: "String", isRequired: false },
  flag: { type: "Boolean", isRequired: true },
  optionalFlag: { type: "Boolean", isRequired: false },
  date: { type: "DateTime", isRequired: true },
  optionalDate: { type: "DateTime", isRequired: false },
};

const resources = RESOURCES as readonly ResourceSpec[];

describe("the resource registry", () => {
  it("names a Prisma model for each entry, with a column of the right type for each typed column", () => {
    for (const entry of [...resources, ...SINGLETONS]) {
      const model = modelOf(entry.model);
      expect(model, entry.model).toBeDefined();
      for (const [name, column] of Object.entries(entry.columns)) {
        const field = model!.fields.find((candidate) => candidate.name === name);
        expect(field && { type: field.type, isRequired: field.isRequired }, `${entry.model}.${name}`).toEqual(
          STORAGE[column.kind],
        );
      }
    }
    for (const resource of resources.filter((r) => r.deletable)) {
      expect(modelOf(resource.model)!.fields.map((field) => field.name)).toContain("deleted");
    }
  });

  it("routes every applied event type to exactly one entry", () => {
    expect(new Set(APPLIED_EVENT_TYPES).size).toBe(APPLIED_EVENT_TYPES.length);
  });

  it("points per-parent lists and child lists at registered parents, read again on the parent's own events", () => {
    for (const resource of resources) {
      expect(resource.list || resource.perParent, `${resource.key} is fetched somehow`).toBeTruthy();
      const perParent = resource.perParent;
      if (perParent) {
        const parent = RESOURCE_BY_KEY.get(perParent.parent);
        expect(parent, resource.key).toBeDefined();
        for (const type of perParent.refetchOn) expect(parent!.eventTypes).toContain(type);
        if (perParent.linkColumn) expect(resource.columns[perParent.linkColumn]?.read).toBeNull();
      }
      const childOf = resource.graphql.childOf;
      if (childOf) {
        expect(RESOURCE_BY_KEY.get(childOf.parent), resource.key).toBeDefined();
        expect(Object.keys(resource.columns)).toContain(childOf.column);
      }
    }
  });

  it("generates each entry's GraphQL list, type fields and live subscription", () => {
    const printed = printSchema(schema);
    const connection = schema.getType("StripeConnection") as unknown as {
      getFields(): Record<string, unknown>;
    };
    const subscription = schema.getSubscriptionType()!.getFields();
    for (const resource of resources) {
      expect(Object.keys(connection.getFields())).toContain(resource.graphql.list);
      const typeName = modelNameOf(resource.model);
      const type = schema.getType(typeName) as unknown as { getFields(): Record<string, unknown> };
      expect(Object.keys(type.getFields())).toEqual(expect.arrayContaining(Object.keys(resource.columns)));
      if (resource.graphql.live)
        expect(Object.keys(subscription)).toContain(resource.graphql.live.subscription);
    }
    expect(printed).toContain("applicationFeeRefunds(");
  });
});
