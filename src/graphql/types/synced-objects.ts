// Every synced Stripe object type, generated from the registry (src/stripe/resources.ts): its node type
// with the common fields and one field per typed column, its child lists (a charge's refunds), and its
// list on StripeConnection.
import type { ObjectRef } from "@pothos/core";
import type { GraphQLResolveInfo } from "graphql";
import type { Column, ColumnKind } from "../../stripe/columns.ts";
import { RESOURCES, type ResourceSpec } from "../../stripe/resources.ts";
import { builder } from "../builder.ts";
import { childPage } from "../child-lists.ts";
import type { Context } from "../context.ts";
import {
  addConnectionList,
  connectionGlobalId,
  connectionTypeOf,
  orgScopedFindUnique,
  type SchemaTypesOf,
  toSafeInt,
  typeNameOf,
} from "../stripe-objects.ts";

type Row = Record<string, unknown> & { id: string; connectionId: string };
type FieldOptions = { nullable?: boolean; description?: string };
/** The columns a field reads (select mode: a row has only the columns its selection needs). */
type Select = { select: Record<string, true> };
/** The part of Pothos' Prisma field builder used here, for columns named by the registry at run time. */
type FieldBuilder = {
  exposeString(name: string, options?: FieldOptions): unknown;
  exposeBoolean(name: string, options?: FieldOptions): unknown;
  expose(name: string, options: FieldOptions & { type: "DateTime" | "JSON" }): unknown;
  id(options: Select & { resolve(row: Row): string }): unknown;
  field(options: FieldOptions & Select & { type: "SafeInt"; resolve(row: Row): number }): unknown;
  connection(
    options: {
      type: unknown;
      description?: string;
      resolve(row: Row, args: object, ctx: Context, info: GraphQLResolveInfo): unknown;
    },
    connectionType: unknown,
  ): unknown;
};
/** A synced object type, as its list and child lists refer to it. */
type NodeRef = ObjectRef<SchemaTypesOf, object>;

const FIELD_OF_KIND: Record<ColumnKind, (t: FieldBuilder, name: string, column: Column) => unknown> = {
  amount: (t, name, { description }) =>
    t.field({
      type: "SafeInt",
      description,
      select: { [name]: true },
      resolve: (row) => toSafeInt(row[name] as bigint),
    }),
  text: (t, name, { description }) => t.exposeString(name, { description }),
  optionalText: (t, name, { description }) => t.exposeString(name, { nullable: true, description }),
  flag: (t, name, { description }) => t.exposeBoolean(name, { description }),
  optionalFlag: (t, name, { description }) => t.exposeBoolean(name, { nullable: true, description }),
  date: (t, name, { description }) => t.expose(name, { type: "DateTime", description }),
  optionalDate: (t, name, { description }) =>
    t.expose(name, { type: "DateTime", nullable: true, description }),
};

const resources = RESOURCES as readonly ResourceSpec[];
const nodes = new Map<string, NodeRef>();
const connectionTypes = new Map<string, ReturnType<typeof connectionTypeOf>>();

function defineNode(resource: ResourceSpec): NodeRef {
  return builder.prismaNode(typeNameOf(resource) as "StripePayout", {
    id: { field: "id" },
    nullable: true,
    findUnique: orgScopedFindUnique,
    // Select mode: a list reads the columns its selection needs (`raw` only when asked), not every one.
    // The row id is always there: node ids, cursors and child lists use it.
    select: { id: true },
    fields: (builderOfModel) => {
      const t = builderOfModel as unknown as FieldBuilder;
      return {
        stripeId: t.exposeString("stripeId"),
        connectionId: t.id({
          select: { connectionId: true },
          resolve: (row) => connectionGlobalId(row.connectionId),
        }),
        ...Object.fromEntries(
          Object.entries(resource.columns).map(([name, column]) => [
            name,
            FIELD_OF_KIND[column.kind](t, name, column),
          ]),
        ),
        ...childLists(t, resource),
        created: t.expose("created", { type: "DateTime" }),
        raw: t.expose("raw", { type: "JSON" }),
        updatedAt: t.expose("updatedAt", { type: "DateTime" }),
      } as never;
    },
  });
}

/** `<this type>.<field>` for each resource that names this one as its parent. */
function childLists(t: FieldBuilder, parent: ResourceSpec): Record<string, unknown> {
  const children = resources.filter((child) => child.graphql.childOf?.parent === parent.key);
  return Object.fromEntries(
    children.map((child) => {
      const { field, column, description } = child.graphql.childOf!;
      const name = `${typeNameOf(parent)}.${field}`;
      return [
        field,
        t.connection(
          {
            type: nodes.get(child.key),
            description,
            resolve: (row, args, ctx, info) =>
              childPage(ctx, info, args, {
                name,
                typeName: typeNameOf(child),
                parentId: row.id,
                foreignKey: column,
              }),
          },
          connectionTypes.get(child.key),
        ),
      ];
    }),
  );
}

for (const resource of resources) nodes.set(resource.key, defineNode(resource));
for (const resource of resources) {
  const connectionType = connectionTypeOf(typeNameOf(resource), nodes.get(resource.key)!);
  connectionTypes.set(resource.key, connectionType);
  addConnectionList({
    field: resource.graphql.list,
    model: typeNameOf(resource),
    connectionType,
    prefixes: resource.idPrefixes,
    filters: Object.entries(resource.graphql.filters).map(([arg, filter]) => ({ arg, ...filter })),
  });
}
