import { z } from "zod";
import type { PrismaClient } from "../db/client.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { AccessToken, Prisma } from "../generated/prisma/client.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { issueCredential, parseCredential } from "./secret-format.ts";

export const DEFAULT_TOKEN_SECONDS = 900;
export const MAX_TOKEN_SECONDS = 86_400;
const MAX_TOKEN_CONNECTIONS = 100;

type AccessTokenDeps = { prisma: PrismaClient; pubsub: Pick<GatewayPubSub, "publish"> };

/** A connection's metadata: the org's own JSON object, kept on the connection. */
export const connectionMetadata = z
  .record(z.string(), z.unknown(), { error: "must be a JSON object" })
  .refine((value) => JSON.stringify(value).length <= 8192, "must be at most 8 KB of JSON");

const tokenInput = z
  .object({
    connectionIds: z
      .array(z.string())
      .max(MAX_TOKEN_CONNECTIONS, `must list at most ${MAX_TOKEN_CONNECTIONS}`),
    allowConnect: z.boolean().nullish(),
    metadata: connectionMetadata.nullish(),
    expiresInSeconds: z
      .number()
      .int("must be a whole number of seconds")
      .min(1, "must be at least 1")
      .max(MAX_TOKEN_SECONDS, `must be at most ${MAX_TOKEN_SECONDS} (24 hours)`)
      .nullish(),
  })
  .superRefine((input, issues) => {
    if (input.connectionIds.length === 0 && !input.allowConnect) {
      issues.addIssue({
        code: "custom",
        path: ["connectionIds"],
        message: "must list a connection, unless allowConnect is true: the token could read nothing",
      });
    }
    if (input.metadata != null && !input.allowConnect) {
      issues.addIssue({
        code: "custom",
        path: ["metadata"],
        message: "is the metadata of the connection the token starts: it needs allowConnect",
      });
    }
  });

export type AccessTokenInput = {
  connectionIds: string[];
  allowConnect?: boolean | null;
  /** a JSON object: checked here */
  metadata?: unknown;
  expiresInSeconds?: number | null;
};

export function parseAccessToken(token: string): { id: string; secret: string } | null {
  return parseCredential("tok", token);
}

const invalidate = (deps: Pick<AccessTokenDeps, "pubsub">, tokenId: string) =>
  deps.pubsub.publish("cache:invalidate", { kind: "accessToken", key: tokenId });

/**
 * Mints a browser token for one end user of the org: read-only, the listed connections only (each must be
 * the org's: any other is not found, as a missing one), until it expires. Returned this once.
 */
export async function createAccessToken(
  deps: AccessTokenDeps,
  orgId: string,
  input: AccessTokenInput,
  now: Date,
): Promise<{ token: string; accessToken: AccessToken }> {
  const parsed = tokenInput.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((issue) => ({
        path: ["input", ...issue.path.slice(0, 1).map(String)],
        message: issue.message,
      })),
    );
  }
  const connectionIds = [...new Set(parsed.data.connectionIds)];
  const found = await deps.prisma.stripeConnection.count({ where: { orgId, id: { in: connectionIds } } });
  if (found !== connectionIds.length) throw new NotFoundError("No such connection in this org.");
  const issued = issueCredential("tok");
  const seconds = parsed.data.expiresInSeconds ?? DEFAULT_TOKEN_SECONDS;
  const accessToken = await deps.prisma.accessToken.create({
    data: {
      id: issued.id,
      orgId,
      secretHash: issued.secretHash,
      connectionIds,
      allowConnect: parsed.data.allowConnect ?? false,
      connectMetadata: (parsed.data.metadata ?? undefined) as Prisma.InputJsonObject | undefined,
      expiresAt: new Date(now.getTime() + seconds * 1000),
      createdAt: now,
    },
  });
  invalidate(deps, accessToken.id);
  return { token: issued.credential, accessToken };
}

/** Ends a token of the org at once, on every instance (open subscriptions close); another org's is not found. */
export async function revokeAccessToken(
  deps: AccessTokenDeps,
  orgId: string,
  tokenId: string,
  now: Date,
): Promise<AccessToken> {
  const token = await deps.prisma.accessToken.findFirst({ where: { id: tokenId, orgId } });
  if (!token) throw new NotFoundError("No such access token in this org.");
  await deps.prisma.accessToken.updateMany({
    where: { id: tokenId, revokedAt: null },
    data: { revokedAt: now },
  });
  invalidate(deps, tokenId);
  return deps.prisma.accessToken.findUniqueOrThrow({ where: { id: tokenId } });
}

/**
 * Takes the token's one startStripeConnection: true for the one caller that got it (concurrent calls race
 * on one conditional update), false once it is used, revoked or expired.
 */
export async function claimConnect(deps: AccessTokenDeps, tokenId: string, now: Date): Promise<boolean> {
  const { count } = await deps.prisma.accessToken.updateMany({
    where: { id: tokenId, allowConnect: true, connectUsedAt: null, revokedAt: null, expiresAt: { gt: now } },
    data: { connectUsedAt: now },
  });
  invalidate(deps, tokenId);
  return count === 1;
}

/** Gives the claim back when the start failed (nothing was created): the token may try again. */
export async function releaseConnect(deps: AccessTokenDeps, tokenId: string): Promise<void> {
  await deps.prisma.accessToken.update({ where: { id: tokenId }, data: { connectUsedAt: null } });
  invalidate(deps, tokenId);
}

/** The connection a token started joins what it may read. */
export async function addToScope(deps: AccessTokenDeps, tokenId: string, connectionId: string) {
  await deps.prisma.accessToken.update({
    where: { id: tokenId },
    data: { connectionIds: { push: connectionId } },
  });
  invalidate(deps, tokenId);
}
