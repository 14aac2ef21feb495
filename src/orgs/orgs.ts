import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { PrismaClient } from "../db/client.ts";
import { ValidationError } from "../errors.ts";
import type { Org } from "../generated/prisma/client.ts";
import { issueApiKey, parseApiKey, safeEqual, sha256 } from "./api-keys.ts";

const orgName = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");

function newOrgId(): string {
  return `org_${randomBytes(12).toString("hex")}`;
}

/** Creates an org with its first API key. The key is returned this once; only its hash is stored. */
export async function createOrg(
  prisma: PrismaClient,
  input: { name: string },
): Promise<{ org: Org; apiKey: string }> {
  const name = orgName.safeParse(input.name);
  if (!name.success) {
    throw new ValidationError(
      name.error.issues.map((issue) => ({ path: ["input", "name"], message: issue.message })),
    );
  }
  const key = issueApiKey();
  const org = await prisma.org.create({
    data: {
      id: newOrgId(),
      name: name.data,
      apiKeys: { create: { id: key.id, secretHash: key.secretHash } },
    },
  });
  return { org, apiKey: key.key };
}

/** The org an API key belongs to, or null for an unknown, malformed or revoked key. */
export async function findOrgByApiKey(prisma: PrismaClient, apiKey: string): Promise<Org | null> {
  const parsed = parseApiKey(apiKey);
  if (!parsed) return null;
  const row = await prisma.apiKey.findUnique({ where: { id: parsed.id }, include: { org: true } });
  if (!row || row.revokedAt) return null;
  return safeEqual(sha256(parsed.secret), row.secretHash) ? row.org : null;
}

export function orgRedirectUri(publicUrl: string, orgId: string): string {
  return `${publicUrl}/stripe/proxy/${orgId}/redirect`;
}

export function orgWebhookUrl(publicUrl: string, orgId: string): string {
  return `${publicUrl}/stripe/webhooks/${orgId}`;
}
