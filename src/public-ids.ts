// The ids clients see, wherever they are handed out: GraphQL, and the org's webhook deliveries.
import { encodeGlobalID } from "@pothos/plugin-relay";

/** A connection's public id: the global id of its StripeConnection node (also the OAuth return URL's). */
export function connectionGlobalId(connectionId: string): string {
  return encodeGlobalID("StripeConnection", connectionId);
}
