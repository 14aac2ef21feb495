// Signed webhook deliveries, each a new payout: stored and applied (2xx only once stored), events/s.
import { signedPayoutEvent } from "./events.ts";
import type { Load } from "./measure.ts";
import type { GatewayInfo } from "./servers/gateway.ts";

export function webhookLoad({ url, webhookPath, stripeAccountId }: GatewayInfo): Load {
  return {
    url: `${url}${webhookPath}`,
    body: () => {
      const event = signedPayoutEvent(stripeAccountId);
      return { body: event.body, headers: { "stripe-signature": event.signature } };
    },
  };
}
