// The setup guide's webhook steps in one call: a Connect webhook endpoint at the org's webhookUrl for the
// event types the gateway applies, created on Stripe with the org's secret key, its signing secret stored.
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { type FieldError, StripeNotConfiguredError, ValidationError } from "../errors.ts";
import type { StripeConfig } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";
import { orgWebhookUrl } from "../orgs/orgs.ts";
import type { SecretBox } from "../orgs/secrets.ts";
import { openSecretKey, setStripeConfig } from "../orgs/stripe-config.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { PlatformCallError, type StripePlatformApi } from "../stripe/platform.ts";
import { APPLIED_EVENT_TYPES } from "../stripe/resources.ts";

export type RegisterWebhookEndpointDeps = {
  config: Pick<Config, "publicUrl" | "stripe">;
  db: Pick<Database, "prisma">;
  secrets: SecretBox;
  pubsub: Pick<GatewayPubSub, "publish">;
  stripePlatform: StripePlatformApi;
  logger: Logger;
};

export type RegisteredWebhookEndpoint = {
  stripeConfig: StripeConfig;
  endpointId: string;
  url: string;
  enabledEvents: string[];
  /** The org's earlier endpoints at the same URL, deleted once the new secret was stored */
  replacedEndpointIds: string[];
  warnings: string[];
};

/** Stripe's refusal as the fields the org can fix. */
function refusal(error: unknown, url: string): ValidationError {
  if (!(error instanceof PlatformCallError)) throw error;
  const problem = (path: string[], message: string): FieldError[] => [{ path, message }];
  switch (error.kind) {
    case "key_rejected":
      return new ValidationError(
        problem(
          ["stripeConfig", "secretKey"],
          `Stripe refused the org's secret key (${error.message}): save a working one with setStripeConfig(input: { secretKey }).`,
        ),
      );
    case "key_forbidden":
      return new ValidationError(
        problem(
          ["stripeConfig", "secretKey"],
          `The org's key may not manage webhook endpoints (${error.message}): use the secret key (sk_…), or a restricted key with write access to Webhook Endpoints.`,
        ),
      );
    case "request_refused":
      return new ValidationError(
        error.param === "url"
          ? problem(
              ["url"],
              `Stripe refused the webhook URL ${url} (${error.message}): set PUBLIC_URL to the public https address at which Stripe reaches the gateway.`,
            )
          : problem([], `Stripe refused to create the webhook endpoint: ${error.message}`),
      );
    case "unavailable":
      return new ValidationError(
        problem(
          [],
          `${error.message}: try again (registering again replaces any endpoint this attempt left on Stripe).`,
        ),
      );
  }
}

/**
 * Creates the org's Connect webhook endpoint on Stripe and stores its signing secret, then deletes the
 * org's older endpoints at the same URL. Created first and deleted last, so events keep arriving
 * throughout: while both exist each event comes twice (one signed with the stored secret, the duplicate
 * refused or deduplicated), and none is missed. Registering again therefore replaces, never adds (an
 * update could not: Stripe shows an endpoint's secret only when it creates it).
 */
export async function registerWebhookEndpoint(
  deps: RegisterWebhookEndpointDeps,
  orgId: string,
): Promise<RegisteredWebhookEndpoint> {
  const { prisma } = deps.db;
  const config = await prisma.stripeConfig.findUnique({ where: { orgId } });
  if (!config) throw new StripeNotConfiguredError();
  const secretKey = openSecretKey(deps.secrets, config);
  const url = orgWebhookUrl(deps.config.publicUrl, orgId);

  const created = await deps.stripePlatform
    .createConnectWebhookEndpoint(secretKey, {
      url,
      enabledEvents: APPLIED_EVENT_TYPES,
      description: "Stripe Connect Gateway: events of the org's connected accounts",
      metadata: { gateway_org_id: orgId },
    })
    .catch((error: unknown) => {
      throw refusal(error, url);
    });
  if (!created.secret) throw new Error(`Stripe created webhook endpoint ${created.id} without a secret`);
  const { stripeConfig } = await setStripeConfig(
    { prisma, secrets: deps.secrets, marketplaceUrl: deps.config.stripe.marketplaceUrl, pubsub: deps.pubsub },
    orgId,
    { webhookSigningSecret: created.secret },
  );

  const replacedEndpointIds: string[] = [];
  const warnings: string[] = [];
  try {
    // Listed after the create, so an endpoint a retried create may have left is found too.
    for (const endpoint of await deps.stripePlatform.listWebhookEndpoints(secretKey)) {
      if (endpoint.url !== url || endpoint.id === created.id) continue;
      await deps.stripePlatform.deleteWebhookEndpoint(secretKey, endpoint.id);
      replacedEndpointIds.push(endpoint.id);
    }
  } catch (error) {
    if (!(error instanceof PlatformCallError)) throw error;
    deps.logger.warn({ orgId, err: error.message }, "could not delete the org's older webhook endpoints");
    warnings.push(
      `The new endpoint works, but older ones at ${url} could not be deleted (${error.message}): delete them in Workbench → Webhooks, or register again.`,
    );
  }
  return {
    stripeConfig,
    endpointId: created.id,
    url: created.url,
    enabledEvents: created.enabled_events,
    replacedEndpointIds,
    warnings,
  };
}
