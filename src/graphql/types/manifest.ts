import { z } from "zod";
import { checkStripeAppManifest } from "../../manifest/check.ts";
import { type GeneratedStripeAppManifest, generateStripeAppManifest } from "../../manifest/generate.ts";
import {
  appIdSchema,
  appNameSchema,
  appVersionSchema,
  DEFAULT_APP_ID,
  DEFAULT_APP_NAME,
  DEFAULT_APP_VERSION,
} from "../../manifest/options.ts";
import type { StripeAppPermission } from "../../manifest/permissions.ts";
import { MANIFEST_PROBLEM_CODES, type ManifestProblem } from "../../manifest/problems.ts";
import { orgRedirectUri } from "../../orgs/orgs.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";

// Far above any real stripe-app.json; keeps the checker's work bounded.
const MAX_MANIFEST_LENGTH = 256 * 1024;

const StripeAppPermissionRef = builder.objectRef<StripeAppPermission>("StripeAppPermission").implement({
  fields: (t) => ({
    permission: t.exposeString("permission"),
    purpose: t.exposeString("purpose", { description: "What merchants read on the install screen." }),
  }),
});

const StripeAppManifestRef = builder.objectRef<GeneratedStripeAppManifest>("StripeAppManifest").implement({
  description: "stripe-app.json for this org, per the setup guide.",
  fields: (t) => ({
    json: t.field({
      type: "JSON",
      description: "A complete stripe-app.json: OAuth, public, this org's redirect URI, the permissions.",
      resolve: (manifest) => manifest.json,
    }),
    text: t.exposeString("text", { description: "The same manifest as file contents, ready to save." }),
    permissions: t.field({ type: [StripeAppPermissionRef], resolve: (manifest) => manifest.permissions }),
    grantCommands: t.exposeStringList("grantCommands", {
      description: '`stripe apps grant permission "…" "…"` lines, shell-quoted.',
    }),
  }),
});

const ProblemCodeEnum = builder.enumType("StripeAppManifestProblemCode", { values: MANIFEST_PROBLEM_CODES });

const ProblemRef = builder.objectRef<ManifestProblem>("StripeAppManifestProblem").implement({
  fields: (t) => ({
    code: t.field({ type: ProblemCodeEnum, resolve: (item) => item.code }),
    path: t.exposeString("path", {
      description: 'Where in the file, e.g. "permissions[3].purpose"; "" for the whole file.',
    }),
    message: t.exposeString("message"),
    fix: t.exposeString("fix"),
  }),
});

const CheckRef = builder
  .objectRef<{ redirectUri: string; problems: ManifestProblem[] }>("StripeAppManifestCheck")
  .implement({
    fields: (t) => ({
      ok: t.boolean({
        description: "True when there is no problem.",
        resolve: (check) => check.problems.length === 0,
      }),
      redirectUri: t.exposeString("redirectUri", {
        description: "The redirect URI the manifest was checked against.",
      }),
      problems: t.field({ type: [ProblemRef], resolve: (check) => check.problems }),
    }),
  });

function redirectUriOf(ctx: Context): string {
  return orgRedirectUri(ctx.deps.config.publicUrl, ctx.org!.id);
}

builder.queryField("stripeAppManifest", (t) =>
  t.field({
    type: StripeAppManifestRef,
    description: "stripe-app.json for the caller's org, per the setup guide, and its grant commands.",
    authScopes: { apiKey: true },
    args: {
      appId: t.arg.string({ description: `Globally unique on Stripe; default "${DEFAULT_APP_ID}".` }),
      name: t.arg.string({ description: `The name merchants see; default "${DEFAULT_APP_NAME}".` }),
      version: t.arg.string({ description: `Default "${DEFAULT_APP_VERSION}".` }),
    },
    // one schema for all three, so that every bad argument is reported at once
    validate: z.object({
      appId: appIdSchema.nullish(),
      name: appNameSchema.nullish(),
      version: appVersionSchema.nullish(),
    }),
    resolve: (_root, args, ctx) => generateStripeAppManifest({ redirectUri: redirectUriOf(ctx), ...args }),
  }),
);

builder.queryField("checkStripeAppManifest", (t) =>
  t.field({
    type: CheckRef,
    description:
      "Checks a stripe-app.json (its text) for the caller's org: one problem per mistake, with its fix.",
    authScopes: { apiKey: true },
    args: {
      json: t.arg.string({
        required: true,
        validate: z.string().max(MAX_MANIFEST_LENGTH, `must be at most ${MAX_MANIFEST_LENGTH} characters`),
      }),
    },
    resolve: (_root, { json }, ctx) => {
      const redirectUri = redirectUriOf(ctx);
      return { redirectUri, problems: checkStripeAppManifest(json, { redirectUri }) };
    },
  }),
);
