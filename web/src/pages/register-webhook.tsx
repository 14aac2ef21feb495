import { Notice } from "../components/notice.tsx";
import { pageHref } from "../route.ts";
import type { StripeConfig } from "../viewer.ts";

/** "Register with Stripe": the manual steps in one click (registerStripeWebhookEndpoint). */
export function RegisterWebhook(props: { configured: boolean; onSaved(config: StripeConfig): void }) {
  void props.onSaved;
  return (
    <section aria-labelledby="register-heading">
      <h2 id="register-heading">Register with Stripe</h2>
      {props.configured ? (
        <p>Not available yet.</p>
      ) : (
        <Notice kind="info">
          Save the OAuth Client ID and Secret Key on the <a href={pageHref("platform")}>Stripe platform</a>{" "}
          page first.
        </Notice>
      )}
    </section>
  );
}
