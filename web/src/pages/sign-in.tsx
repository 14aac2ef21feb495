import { useState } from "preact/hooks";
import { errorMessage, request } from "../api.ts";
import { TextField } from "../components/field.tsx";
import { Notice } from "../components/notice.tsx";
import { ViewerQuery } from "../documents.ts";

/** Asks for the org's API key and checks it (one viewer query) before keeping it for this tab. */
export function SignIn(props: { reason: string; onSignedIn(key: string): void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) {
      setError("Paste the org's API key (cgw_key_…).");
      return;
    }
    setBusy(true);
    setError("");
    try {
      await request(ViewerQuery, {}, { key: candidate });
      props.onSignedIn(candidate);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>Stripe Connect Gateway</h1>
      <p>
        Sign in with your org's API key. It stays in this browser tab only (session storage) and is sent to
        the gateway as an <code>Authorization: Bearer</code> header.
      </p>
      {props.reason && <Notice kind="warning">{props.reason}</Notice>}
      <form onSubmit={submit} noValidate>
        <TextField
          id="api-key"
          label="Org API key"
          type="password"
          code
          value={key}
          onInput={setKey}
          error={error || undefined}
          placeholder="cgw_key_…"
          hint={
            <>
              Printed once by <code>npm run cli -- org create</code>, by <code>createOrg</code> or by the
              demo.
            </>
          }
        />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
