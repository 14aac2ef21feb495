import { useState } from "preact/hooks";
import { errorMessage, request } from "../api.ts";
import { Notice } from "../components/notice.tsx";
import { RegisterWebhookEndpoint } from "../documents.ts";
import type { DashboardRegisterWebhookEndpointMutation } from "../graphql/graphql.ts";
import { pageHref } from "../route.ts";
import type { StripeConfig } from "../viewer.ts";

type Result = DashboardRegisterWebhookEndpointMutation["registerStripeWebhookEndpoint"];
type Registered = Extract<Result, { __typename: "RegisterStripeWebhookEndpointSuccess" }>;

/** "Register with Stripe": the manual steps in one click (registerStripeWebhookEndpoint). */
export function RegisterWebhook(props: { configured: boolean; onSaved(config: StripeConfig): void }) {
  const [registered, setRegistered] = useState<Registered | null>(null);
  const [error, setError] = useState<readonly string[]>([]);
  const [busy, setBusy] = useState(false);

  const register = async () => {
    setBusy(true);
    setError([]);
    setRegistered(null);
    try {
      const { registerStripeWebhookEndpoint: result } = await request(RegisterWebhookEndpoint, {});
      switch (result.__typename) {
        case "RegisterStripeWebhookEndpointSuccess":
          props.onSaved(result.stripeConfig);
          setRegistered(result);
          break;
        case "ValidationError":
          setError([result.message, ...result.fieldErrors.map((problem) => problem.message)]);
          break;
        case "StripeNotConfiguredError":
          setError([result.message]);
          break;
      }
    } catch (caught) {
      setError([errorMessage(caught)]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="register-heading">
      <h2 id="register-heading">Register with Stripe</h2>
      <p>
        The steps below in one click: creates a webhook endpoint for <strong>Connected accounts</strong> on
        your Stripe account (with your Secret Key) that sends every event type the gateway applies to the
        webhook URL above, and saves its signing secret. Registering again replaces that endpoint.
      </p>
      {props.configured ? (
        <button type="button" onClick={register} disabled={busy}>
          {busy ? "Registering…" : "Register with Stripe"}
        </button>
      ) : (
        <Notice kind="info">
          Save the OAuth Client ID and Secret Key on the <a href={pageHref("platform")}>Stripe platform</a>{" "}
          page first.
        </Notice>
      )}
      {error.length > 0 && (
        <Notice kind="error" title="Stripe did not register the endpoint.">
          {[...new Set(error)].map((line) => (
            <p key={line}>{line}</p>
          ))}
        </Notice>
      )}
      {registered && <RegisteredEndpoint registered={registered} />}
    </section>
  );
}

function RegisteredEndpoint(props: { registered: Registered }) {
  const { registered } = props;
  return (
    <Notice kind={registered.warnings.length ? "warning" : "success"} title="Registered with Stripe.">
      <dl class="registered">
        <dt>Endpoint</dt>
        <dd>
          <code>{registered.endpointId}</code>
        </dd>
        <dt>Sends to</dt>
        <dd>
          <code>{registered.url}</code>
        </dd>
        <dt>Signing secret</dt>
        <dd>saved</dd>
        {registered.replacedEndpointIds.length > 0 && (
          <>
            <dt>Replaced</dt>
            <dd>
              <code>{registered.replacedEndpointIds.join(", ")}</code>
            </dd>
          </>
        )}
      </dl>
      <details>
        <summary>{registered.enabledEvents.length} event types</summary>
        <ul class="event-types">
          {registered.enabledEvents.map((type) => (
            <li key={type}>
              <code>{type}</code>
            </li>
          ))}
        </ul>
      </details>
      {registered.warnings.length > 0 && (
        <ul class="warnings">
          {registered.warnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      )}
    </Notice>
  );
}
