import { useState } from "preact/hooks";
import { errorMessage, request } from "../api.ts";
import { CopyField } from "../components/copy-field.tsx";
import { TextField } from "../components/field.tsx";
import { Notice } from "../components/notice.tsx";
import { SaveStripeConfig } from "../documents.ts";
import { pageHref } from "../route.ts";
import { errorsByField, type StripeConfig, type Viewer } from "../viewer.ts";
import { RegisterWebhook } from "./register-webhook.tsx";

/** The setup guide's Webhooks tab: the URL for Stripe, the signing secret back, or both in one click. */
export function WebhooksPage(props: { viewer: Viewer; onSaved(config: StripeConfig): void }) {
  const config = props.viewer.stripeConfig ?? null;
  return (
    <>
      <section aria-labelledby="webhook-url-heading">
        <h2 id="webhook-url-heading">Real-time updates from Stripe</h2>
        <p>
          Stripe sends the events of your connected accounts here; the gateway applies them as they arrive
          (charges, refunds, payouts and the rest) and pushes the changes to subscriptions.
        </p>
        <CopyField
          id="webhook-url"
          label="Webhook URL"
          value={props.viewer.webhookUrl}
          hint="The endpoint URL of a Stripe webhook destination for Connected accounts."
        />
        <p class="secret-state" role="status">
          Signing secret: <strong>{config?.webhookSigningSecretSet ? "saved" : "not set"}</strong>
          {config?.webhookSigningSecretSet ? "" : " (webhooks are refused until it is)"}
        </p>
      </section>

      <RegisterWebhook configured={config !== null} onSaved={props.onSaved} />

      <section aria-labelledby="manual-heading">
        <h2 id="manual-heading">Or add the destination by hand</h2>
        <ol class="steps">
          <li>Copy the webhook URL above.</li>
          <li>
            In Stripe Workbench → Webhooks → “Add destination”:
            <ul>
              <li>
                scope: <strong>Connected accounts</strong>
              </li>
              <li>
                events: all of <strong>Charge</strong>, <strong>Refund</strong> and <strong>Payout</strong>
              </li>
              <li>
                destination type: <strong>Webhook endpoint</strong>, with the URL pasted.
              </li>
            </ul>
          </li>
          <li>Copy the destination's signing secret into the field below and save it.</li>
        </ol>
        {config ? (
          <SigningSecretForm onSaved={props.onSaved} />
        ) : (
          <Notice kind="info">
            Save the OAuth Client ID and Secret Key on the <a href={pageHref("platform")}>Stripe platform</a>{" "}
            page first.
          </Notice>
        )}
      </section>
    </>
  );
}

function SigningSecretForm(props: { onSaved(config: StripeConfig): void }) {
  const [secret, setSecret] = useState("");
  const [error, setError] = useState("");
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    setError("");
    if (!secret.trim()) {
      setError("Paste the signing secret (whsec_…).");
      return;
    }
    setBusy(true);
    try {
      const { setStripeConfig: result } = await request(SaveStripeConfig, {
        input: { webhookSigningSecret: secret.trim() },
      });
      if (result.__typename === "SetStripeConfigSuccess") {
        props.onSaved(result.stripeConfig);
        setSecret("");
        setSaved(true);
      } else {
        setError(errorsByField(result.fieldErrors).webhookSigningSecret ?? result.message);
      }
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <TextField
        id="webhookSigningSecret"
        label="Signing secret"
        type="password"
        code
        value={secret}
        onInput={setSecret}
        error={error || undefined}
        placeholder="whsec_…"
        autoComplete="new-password"
        hint="Stored encrypted; never shown again."
      />
      <button type="submit" disabled={busy}>
        {busy ? "Saving…" : "Save signing secret"}
      </button>
      {saved && <Notice kind="success">Signing secret saved.</Notice>}
    </form>
  );
}
