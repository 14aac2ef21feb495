import { useEffect, useState } from "preact/hooks";
import { errorMessage, request } from "../api.ts";
import { CopyField } from "../components/copy-field.tsx";
import { TextField } from "../components/field.tsx";
import { Notice } from "../components/notice.tsx";
import { SaveStripeConfig } from "../documents.ts";
import type { SetStripeConfigInput, StripeConnectMethod } from "../graphql/graphql.ts";
import { errorsByField, type StripeConfig, type Viewer } from "../viewer.ts";
import { ManifestCheck, ManifestDownload } from "./manifest.tsx";

const FIELDS = ["connectMethod", "clientId", "secretKey", "customAuthorizationUrl", "defaultReturnUrl"];

type Outcome =
  | { kind: "saved"; warnings: readonly string[] }
  | { kind: "invalid"; message: string; errors: Record<string, string> }
  | { kind: "failed"; message: string }
  | { kind: "unchanged" };

/** An optional field's part of the input: left out when unchanged, null to clear it. */
function optional(value: string, saved: string | null | undefined): string | null | undefined {
  const trimmed = value.trim();
  if (trimmed === (saved ?? "")) return undefined;
  return trimmed === "" ? null : trimmed;
}

/** Only what changed: setStripeConfig keeps every field it is not given. */
function changes(form: Form, saved: StripeConfig | null): SetStripeConfigInput {
  const input: SetStripeConfigInput = {};
  if (!saved || form.connectMethod !== saved.connectMethod) input.connectMethod = form.connectMethod;
  if (!saved || form.clientId.trim() !== saved.clientId) input.clientId = form.clientId.trim();
  if (form.secretKey.trim()) input.secretKey = form.secretKey.trim();
  const authorizationUrl = optional(form.customAuthorizationUrl, saved?.customAuthorizationUrl);
  if (authorizationUrl !== undefined) input.customAuthorizationUrl = authorizationUrl;
  const returnUrl = optional(form.defaultReturnUrl, saved?.defaultReturnUrl);
  if (returnUrl !== undefined) input.defaultReturnUrl = returnUrl;
  return input;
}

type Form = {
  connectMethod: StripeConnectMethod;
  clientId: string;
  secretKey: string;
  customAuthorizationUrl: string;
  defaultReturnUrl: string;
};

const formOf = (saved: StripeConfig | null): Form => ({
  connectMethod: saved?.connectMethod ?? "STRIPE_APP",
  clientId: saved?.clientId ?? "",
  secretKey: "",
  customAuthorizationUrl: saved?.customAuthorizationUrl ?? "",
  defaultReturnUrl: saved?.defaultReturnUrl ?? "",
});

/** The setup guide's "Stripe platform" page: where the gateway's values go, and Stripe's values in. */
export function PlatformPage(props: { viewer: Viewer; onSaved(config: StripeConfig): void }) {
  const saved = props.viewer.stripeConfig ?? null;
  const [form, setForm] = useState(() => formOf(saved));
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: keyof Form) => (value: string) => setForm({ ...form, [field]: value });
  const errors = outcome?.kind === "invalid" ? outcome.errors : {};

  // After a refusal, the first field it names takes the focus (its error is read with it).
  useEffect(() => {
    if (outcome?.kind !== "invalid") return;
    const first = FIELDS.find((field) => errors[field]);
    if (first) document.getElementById(first === "connectMethod" ? "connect-method-app" : first)?.focus();
  }, [outcome]);

  const submit = async (event: Event) => {
    event.preventDefault();
    const input = changes(form, saved);
    if (Object.keys(input).length === 0) {
      setOutcome({ kind: "unchanged" });
      return;
    }
    setBusy(true);
    try {
      const { setStripeConfig: result } = await request(SaveStripeConfig, { input });
      if (result.__typename === "SetStripeConfigSuccess") {
        props.onSaved(result.stripeConfig);
        setForm(formOf(result.stripeConfig));
        setOutcome({ kind: "saved", warnings: result.warnings });
      } else {
        setOutcome({ kind: "invalid", message: result.message, errors: errorsByField(result.fieldErrors) });
      }
    } catch (error) {
      setOutcome({ kind: "failed", message: errorMessage(error) });
    } finally {
      setBusy(false);
    }
  };

  const unplaced = Object.entries(errors).filter(([field]) => !FIELDS.includes(field));
  const legacy = form.connectMethod === "LEGACY_CONNECT";

  return (
    <>
      <section aria-labelledby="org-heading">
        <h2 id="org-heading">Your gateway's values for Stripe</h2>
        <CopyField
          id="redirect-uri"
          label="Redirect URI"
          value={props.viewer.redirectUri}
          hint={
            legacy ? (
              "Add it as a redirect URI in your Connect settings."
            ) : (
              <>
                Goes into <code>allowed_redirect_uris</code> of your app's <code>stripe-app.json</code> (the
                download below has it).
              </>
            )
          }
        />
        <CopyField
          id="org-id"
          label="Org ID"
          value={props.viewer.plainId}
          hint="The org's id for the CLI (--org-id) and in the gateway's URLs."
        />
      </section>

      <section aria-labelledby="config-heading">
        <h2 id="config-heading">Connect the app to the gateway</h2>
        <form onSubmit={submit} noValidate>
          <fieldset class={errors.connectMethod ? "field-invalid" : undefined}>
            <legend>Connect method</legend>
            <label class="choice">
              <input
                id="connect-method-app"
                type="radio"
                name="connectMethod"
                value="STRIPE_APP"
                checked={form.connectMethod === "STRIPE_APP"}
                onChange={() => setForm({ ...form, connectMethod: "STRIPE_APP" })}
              />
              Stripe App (OAuth)
            </label>
            <label class="choice">
              <input
                type="radio"
                name="connectMethod"
                value="LEGACY_CONNECT"
                checked={legacy}
                onChange={() => setForm({ ...form, connectMethod: "LEGACY_CONNECT" })}
              />
              Legacy Connect extension (deprecated: only for setups made before 2022-05-24)
            </label>
            {errors.connectMethod && <p class="field-error">{errors.connectMethod}</p>}
          </fieldset>
          <TextField
            id="clientId"
            label="OAuth Client ID"
            code
            value={form.clientId}
            onInput={set("clientId")}
            error={errors.clientId}
            placeholder="ca_…"
            hint={
              legacy
                ? "Connect settings: the Live Client ID (a test-mode toggle shows the test one)."
                : "Your app's Settings tab: the client_id query parameter of the “Live mode link”."
            }
          />
          <TextField
            id="secretKey"
            label="Secret Key"
            type="password"
            code
            value={form.secretKey}
            onInput={set("secretKey")}
            error={errors.secretKey}
            placeholder={saved ? saved.secretKeyHint : "sk_live_…"}
            autoComplete="new-password"
            hint={
              saved ? (
                <>
                  Saved: <code>{saved.secretKeyHint}</code> ({saved.livemode ? "live" : "test"} mode). Leave
                  empty to keep it.
                </>
              ) : (
                "Stripe Dashboard → Developers → API keys. Stored encrypted; only its hint is shown again."
              )
            }
          />
          <TextField
            id="customAuthorizationUrl"
            label="Custom Authorization URL"
            type="url"
            code
            value={form.customAuthorizationUrl}
            onInput={set("customAuthorizationUrl")}
            error={errors.customAuthorizationUrl}
            placeholder="https://marketplace.stripe.com/oauth/v2/chnlink_…/authorize"
            hint="Optional, to test before the app is published: the External test link, without its query parameters."
          />
          <TextField
            id="defaultReturnUrl"
            label="Default return URL"
            type="url"
            code
            value={form.defaultReturnUrl}
            onInput={set("defaultReturnUrl")}
            error={errors.defaultReturnUrl}
            placeholder="https://app.example.com/stripe/connected"
            hint="Optional: where a merchant's browser goes after connecting (else a page of the gateway's)."
          />
          <div class="actions">
            <button type="submit" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </button>
          </div>
          <Result outcome={outcome} unplaced={unplaced} />
        </form>
      </section>

      <ManifestDownload />
      <ManifestCheck />
    </>
  );
}

function Result(props: { outcome: Outcome | null; unplaced: [string, string][] }) {
  const { outcome } = props;
  if (!outcome) return null;
  switch (outcome.kind) {
    case "saved":
      return (
        <Notice kind={outcome.warnings.length ? "warning" : "success"} title="Saved.">
          {outcome.warnings.length > 0 && (
            <ul class="warnings">
              {outcome.warnings.map((warning) => (
                <li key={warning}>{warning}</li>
              ))}
            </ul>
          )}
        </Notice>
      );
    case "invalid":
      return (
        <Notice kind="error" title="Nothing was saved.">
          <p>{outcome.message}</p>
          {props.unplaced.map(([field, message]) => (
            <p key={field}>
              <code>{field}</code> {message}
            </p>
          ))}
        </Notice>
      );
    case "failed":
      return (
        <Notice kind="error" title="Nothing was saved.">
          {outcome.message}
        </Notice>
      );
    case "unchanged":
      return <Notice kind="info">Nothing changed: nothing to save.</Notice>;
  }
}
