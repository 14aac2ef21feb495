import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../db/client.ts";

import type { Org } from "../generated/prisma/client.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { issueApiKey } from "./api-keys.ts";
import { checkedName } from "./names.ts";

function newOrgId(): string {
  return `org_${randomBytes(12).toString("hex")}`;
}

/**
 * Creates an org with its first API key. The key is returned this once; only its hash is stored. With
 * `pubsub`, every instance's cache forgets at once that the org and the key were unknown; without it
 * (scripts), within the cache's max age.
 */
export async function createOrg(
  prisma: PrismaClient,
  input: { name: string },
  pubsub?: Pick<GatewayPubSub, "publish">,
): Promise<{ org: Org; apiKey: string }> {
  const name = checkedName(input.name);
  const key = issueApiKey();
  const org = await prisma.org.create({
    data: {
      id: newOrgId(),
      name,
      apiKeys: { create: { id: key.id, secretHash: key.secretHash } },
    },
  });
  pubsub?.publish("cache:invalidate", { kind: "org", key: org.id });
  pubsub?.publish("cache:invalidate", { kind: "apiKey", key: key.id });
  return { org, apiKey: key.key };
}

export function orgRedirectUri(publicUrl: string, orgId: string): string {
  return `${publicUrl}/stripe/proxy/${orgId}/redirect`;
}

export function orgWebhookUrl(publicUrl: string, orgId: string): string {
  return `${publicUrl}/stripe/webhooks/${orgId}`;
}
