// The org's webhook endpoints: created with a signing secret shown once, changed, rotated (the old secret
// keeps signing for a grace period), deleted. Bad input is a ValidationError naming the field, and
// changes nothing.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../../clock.ts";
import type { Database } from "../../db/client.ts";
import { NotFoundError, ValidationError } from "../../errors.ts";
import type { WebhookEndpoint } from "../../generated/prisma/client.ts";
import type { SecretBox } from "../../orgs/secrets.ts";
import { CHANGE_TYPES, isChangeTypePattern } from "../change-types.ts";
import { resolvedUrlProblem, type TargetPolicy, urlProblem } from "./endpoint-url.ts";

export type EndpointDeps = {
  db: Pick<Database, "prisma">;
  secrets: Pick<SecretBox, "seal">;
  clock: Clock;
  policy: TargetPolicy;
};

export type EndpointInput = {
  url?: string | null;
  description?: string | null;
  types?: readonly string[] | null;
  /** Row ids of the org's connections ("" for an id that named none) */
  connectionIds?: readonly string[] | null;
  enabled?: boolean | null;
};

const MAX_ENDPOINTS_PER_ORG = 50;
export const DEFAULT_GRACE_SECONDS = 86_400;
const MAX_GRACE_SECONDS = 7 * 86_400;

const endpointInput = z.object({
  url: z.string().nullish(),
  description: z.string().max(500, "must be at most 500 characters").nullish(),
  types: z
    .array(z.string())
    .max(100, "must list at most 100 types")
    .refine((types) => types.every(isChangeTypePattern), {
      error: (issue) =>
        `${describeUnknown(issue.input as string[])}: each must be a change type (${CHANGE_TYPES.slice(0, 3).join(", ")} …, connection.ready …), "<object>.*" or "*"`,
    })
    .nullish(),
  connectionIds: z.array(z.string()).max(100, "must list at most 100 connections").nullish(),
  enabled: z.boolean().nullish(),
});

const describeUnknown = (types: string[]) =>
  `${types
    .filter((type) => !isChangeTypePattern(type))
    .map((type) => JSON.stringify(type))
    .join(", ")} is not one`;

/** A new signing secret: whsec_ and the base64 of 32 random bytes, as Standard Webhooks libraries read it. */
export const newSigningSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

/** "whsec_…abcd": enough to tell two secrets apart, never enough to sign. */
export const signingSecretHint = (secret: string) => `whsec_…${secret.slice(-4)}`;

/** The sealing context of an endpoint's secrets: a ciphertext opens only for its own endpoint. */
export const secretContext = (endpointId: string) => `webhook-endpoint:${endpointId}`;

/** Checks the input against the org (its connections) and the target rules; throws a ValidationError. */
async function validate(deps: EndpointDeps, orgId: string, input: EndpointInput) {
  const parsed = endpointInput.safeParse(input);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        path: ["input", ...issue.path.slice(0, 1).map(String)],
        message: issue.message,
      }));
  if (input.url != null) {
    const problem = urlProblem(input.url, deps.policy) ?? (await resolvedUrlProblem(input.url, deps.policy));
    if (problem) problems.push({ path: ["input", "url"], message: problem });
  }
  const connectionIds = [...new Set(input.connectionIds ?? [])];
  if (connectionIds.length > 0 && parsed.success) {
    const found = await deps.db.prisma.stripeConnection.count({
      where: { orgId, id: { in: connectionIds } },
    });
    if (found !== connectionIds.length)
      problems.push({ path: ["input", "connectionIds"], message: "must list connections of this org only" });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return { ...input, connectionIds: input.connectionIds ? connectionIds : input.connectionIds };
}

/** A new endpoint of the org, selecting changes from now on; its secret is returned this once. */
export async function createEndpoint(
  deps: EndpointDeps,
  orgId: string,
  input: EndpointInput & { url: string },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const valid = await validate(deps, orgId, input);
  const count = await deps.db.prisma.webhookEndpoint.count({ where: { orgId } });
  if (count >= MAX_ENDPOINTS_PER_ORG)
    throw new ValidationError([
      { path: ["input"], message: `an org has at most ${MAX_ENDPOINTS_PER_ORG} endpoints: delete one first` },
    ]);
  const id = `we_${randomBytes(10).toString("hex")}`;
  const secret = newSigningSecret();
  const now = deps.clock.now();
  const counter = await deps.db.prisma.changeCounter.findUnique({ where: { orgId } });
  const endpoint = await deps.db.prisma.webhookEndpoint.create({
    data: {
      id,
      orgId,
      url: input.url,
      description: valid.description ?? null,
      types: [...(valid.types ?? [])],
      connectionIds: [...(valid.connectionIds ?? [])],
      secretCiphertext: deps.secrets.seal(secret, secretContext(id)),
      secretHint: signingSecretHint(secret),
      // Deliveries begin with the org's next change.
      scheduledThrough: counter?.lastSequence ?? 0n,
      createdAt: now,
    },
  });
  return { endpoint, secret };
}

/** The org's endpoint of that id; another org's, or none, is not found. */
export async function ownEndpoint(deps: Pick<EndpointDeps, "db">, orgId: string, id: string) {
  const endpoint = await deps.db.prisma.webhookEndpoint.findFirst({ where: { id, orgId } });
  if (!endpoint) throw new NotFoundError("No such webhook endpoint in this org.");
  return endpoint;
}

/**
 * Changes the fields given. New selections apply to changes scheduled from now on. Re-enabling resumes
 * where the endpoint stopped: its waiting deliveries, then every change since (as far as the log keeps).
 */
export async function updateEndpoint(
  deps: EndpointDeps,
  orgId: string,
  id: string,
  input: EndpointInput,
): Promise<WebhookEndpoint> {
  const endpoint = await ownEndpoint(deps, orgId, id);
  const valid = await validate(deps, orgId, input);
  const reenabled = valid.enabled === true && !endpoint.enabled;
  return deps.db.prisma.webhookEndpoint.update({
    where: { id },
    data: {
      ...(valid.url != null ? { url: valid.url } : {}),
      ...(valid.description !== undefined ? { description: valid.description } : {}),
      ...(valid.types != null ? { types: [...valid.types] } : {}),
      ...(valid.connectionIds != null ? { connectionIds: [...valid.connectionIds] } : {}),
      ...(valid.enabled === false && endpoint.enabled
        ? { enabled: false, disabledReason: "disabled by the org (updateWebhookEndpoint)" }
        : {}),
      ...(reenabled ? { enabled: true, disabledReason: null, failingSince: null } : {}),
    },
  });
}

export async function deleteEndpoint(deps: EndpointDeps, orgId: string, id: string): Promise<void> {
  await ownEndpoint(deps, orgId, id);
  await deps.db.prisma.webhookEndpoint.deleteMany({ where: { id, orgId } });
}

/** A new secret, returned this once; the current one keeps signing beside it for `graceSeconds`. */
export async function rotateEndpointSecret(
  deps: EndpointDeps,
  orgId: string,
  id: string,
  graceSeconds: number | null | undefined,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const grace = graceSeconds ?? DEFAULT_GRACE_SECONDS;
  if (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS)
    throw new ValidationError([
      { path: ["graceSeconds"], message: `must be a whole number from 0 to ${MAX_GRACE_SECONDS} (7 days)` },
    ]);
  const endpoint = await ownEndpoint(deps, orgId, id);
  const secret = newSigningSecret();
  const now = deps.clock.now();
  const updated = await deps.db.prisma.webhookEndpoint.update({
    where: { id },
    data: {
      secretCiphertext: deps.secrets.seal(secret, secretContext(id)),
      secretHint: signingSecretHint(secret),
      previousSecretCiphertext: grace > 0 ? endpoint.secretCiphertext : null,
      previousSecretUntil: grace > 0 ? new Date(now.getTime() + grace * 1000) : null,
    },
  });
  return { endpoint: updated, secret };
}
