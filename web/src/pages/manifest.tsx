import { useState } from "preact/hooks";
import { errorMessage, request } from "../api.ts";
import { TextField } from "../components/field.tsx";
import { Notice } from "../components/notice.tsx";
import { CheckManifestQuery, ManifestQuery } from "../documents.ts";
import type { DashboardCheckStripeAppManifestQuery } from "../graphql/graphql.ts";

type Check = DashboardCheckStripeAppManifestQuery["checkStripeAppManifest"];

/** Saves `text` as a file through the browser's download. */
function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** stripe-app.json for this org (OAuth, public, its redirect URI, the permissions) and the grant commands. */
export function ManifestDownload() {
  const [appId, setAppId] = useState("");
  const [name, setName] = useState("");
  const [commands, setCommands] = useState<readonly string[] | null>(null);
  const [error, setError] = useState("");

  const generate = async (event: Event) => {
    event.preventDefault();
    setError("");
    try {
      const { stripeAppManifest } = await request(ManifestQuery, {
        appId: appId.trim() || null,
        name: name.trim() || null,
      });
      download("stripe-app.json", stripeAppManifest.text);
      setCommands(stripeAppManifest.grantCommands);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };

  return (
    <section aria-labelledby="manifest-heading">
      <h2 id="manifest-heading">Create the Stripe App: stripe-app.json</h2>
      <p>
        A manifest with OAuth access, public distribution, this org's redirect URI and every permission the
        gateway reads with, and no UI. Put it in the folder of <code>stripe apps create</code>, delete the
        app's <code>src</code> folder, then <code>stripe apps upload</code>.
      </p>
      <form onSubmit={generate} noValidate>
        <div class="field-row">
          <TextField
            id="manifest-app-id"
            label="App ID (optional)"
            code
            value={appId}
            onInput={setAppId}
            placeholder="com.example.stripe-connect-gateway"
            hint="Globally unique on Stripe."
          />
          <TextField
            id="manifest-name"
            label="App name (optional)"
            value={name}
            onInput={setName}
            placeholder="Stripe Connect Gateway"
            hint="The name merchants see."
          />
        </div>
        <button type="submit">Download stripe-app.json</button>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      {commands && (
        <div class="grant-commands">
          <p>
            Downloaded. If you edit an existing manifest instead, grant each permission with the Stripe CLI:
          </p>
          <pre>{commands.join("\n")}</pre>
        </div>
      )}
    </section>
  );
}

/** A dropped (or chosen) stripe-app.json, checked for the setup guide's mistakes. */
export function ManifestCheck() {
  const [dragging, setDragging] = useState(false);
  const [checked, setChecked] = useState<{ file: string; check: Check } | null>(null);
  const [error, setError] = useState("");

  const checkFile = async (file: File | undefined) => {
    if (!file) return;
    setError("");
    setChecked(null);
    try {
      const { checkStripeAppManifest } = await request(CheckManifestQuery, { json: await file.text() });
      setChecked({ file: file.name, check: checkStripeAppManifest });
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };

  return (
    <section aria-labelledby="check-heading">
      <h2 id="check-heading">Check an existing stripe-app.json</h2>
      {/* The label is the drop target: a click on it opens the file chooser, as the input would. */}
      <label
        class={`drop-zone${dragging ? " dragging" : ""}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          void checkFile(event.dataTransfer?.files[0]);
        }}
      >
        Drop stripe-app.json here, or choose it:
        <input
          id="manifest-file"
          type="file"
          accept=".json,application/json"
          onChange={(event) => {
            const input = event.currentTarget;
            void checkFile(input.files?.[0]).finally(() => {
              input.value = "";
            });
          }}
        />
      </label>
      {error && <Notice kind="error">{error}</Notice>}
      {checked && <CheckResult file={checked.file} check={checked.check} />}
    </section>
  );
}

function CheckResult(props: { file: string; check: Check }) {
  const { check } = props;
  if (check.ok) {
    return (
      <Notice kind="success" title={`${props.file}: no problems found.`}>
        It grants what the gateway needs and allows <code>{check.redirectUri}</code>.
      </Notice>
    );
  }
  const count = check.problems.length;
  return (
    <Notice kind="error" title={`${props.file}: ${count} problem${count === 1 ? "" : "s"} to fix.`}>
      <ol class="problems">
        {check.problems.map((problem) => (
          <li key={`${problem.code}:${problem.path}:${problem.message}`}>
            <p>
              {problem.path && <code>{problem.path}</code>} {problem.message}
            </p>
            <p class="fix">Fix: {problem.fix}</p>
          </li>
        ))}
      </ol>
    </Notice>
  );
}
