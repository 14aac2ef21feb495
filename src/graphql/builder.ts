import SchemaBuilder from "@pothos/core";
import DataloaderPlugin from "@pothos/plugin-dataloader";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import ValidationPlugin from "@pothos/plugin-validation";
import type PrismaTypes from "../generated/pothos-prisma-types.ts";
import { getDatamodel } from "../generated/pothos-prisma-types.ts";
import type { Context } from "./context.ts";
import { badInput, forbidden, unauthenticated } from "./errors.ts";
import { decodeAnyId } from "./ids.ts";

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  /** org: an API key or access token of an org; apiKey: the org's API key only; admin: ADMIN_API_KEY */
  AuthScopes: { org: boolean; apiKey: boolean; admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    SafeInt: { Input: number; Output: number };
    ID: { Input: string; Output: string | number };
  };
  DefaultFieldNullability: false;
}>({
  // scope-auth first, so authorization runs before anything else looks at the arguments
  plugins: [ScopeAuthPlugin, ErrorsPlugin, ValidationPlugin, PrismaPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      org: ctx.org !== null,
      apiKey: ctx.credential?.kind === "apiKey",
      admin: ctx.isAdmin,
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.credential?.kind === "accessToken"
        ? forbidden("An access token reads its own connections only: this needs the org's API key.")
        : ctx.org || ctx.isAdmin
          ? forbidden("This API key is not allowed to do that.")
          : unauthenticated("Send an API key: Authorization: Bearer <key>."),
  },
  errors: { defaultTypes: [], directResult: true },
  validation: {
    validationError: (result) =>
      badInput(
        result.issues
          .map((issue) => {
            const path = issue.path
              ?.map((part) => String(typeof part === "object" ? part.key : part))
              .join(".");
            return path ? `${path}: ${issue.message}` : issue.message;
          })
          .join("; "),
      ),
  },
  prisma: {
    client: (ctx) => ctx.deps.db.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: "error",
  },
  relay: {
    // Global ids, and the plain org_…/conn_… ids users copy from elsewhere (ids.ts).
    decodeGlobalID: (globalID) => decodeAnyId(globalID),
    clientMutationId: "omit",
    cursorType: "String",
    nodesOnConnection: false,
    nodeQueryOptions: { authScopes: { org: true } },
    nodesQueryOptions: { authScopes: { org: true } },
  },
});
