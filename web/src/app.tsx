import { useEffect, useRef, useState } from "preact/hooks";
import { errorMessage, request } from "./api.ts";
import { Notice } from "./components/notice.tsx";
import { ViewerQuery } from "./documents.ts";
import { closeLiveClient } from "./live.ts";
import { ConnectionsPage } from "./pages/connections.tsx";
import { PlatformPage } from "./pages/platform.tsx";
import { SignIn } from "./pages/sign-in.tsx";
import { WebhooksPage } from "./pages/webhooks.tsx";
import { PAGES, type PageId, pageHref, usePage } from "./route.ts";
import { onSignedOut, readApiKey, saveApiKey, signOut } from "./session.ts";
import type { StripeConfig, Viewer } from "./viewer.ts";

export function App() {
  const [signedIn, setSignedIn] = useState(() => readApiKey() !== null);
  const [reason, setReason] = useState("");
  useEffect(
    () =>
      onSignedOut((why) => {
        closeLiveClient();
        setReason(why);
        setSignedIn(false);
      }),
    [],
  );
  if (!signedIn) {
    return (
      <SignIn
        reason={reason}
        onSignedIn={(key) => {
          saveApiKey(key);
          setReason("");
          setSignedIn(true);
        }}
      />
    );
  }
  return <Dashboard />;
}

function Dashboard() {
  const page = usePage();
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [error, setError] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);
  const firstPage = useRef(true);

  useEffect(() => {
    request(ViewerQuery, {}).then(
      (data) => setViewer(data.viewer),
      (caught) => setError(errorMessage(caught)),
    );
  }, []);

  // No page named: the guide's first step until Stripe is configured, then the connections.
  useEffect(() => {
    if (viewer && !page) location.replace(pageHref(viewer.stripeConfig ? "connections" : "platform"));
  }, [viewer, page]);

  const current = PAGES.find((entry) => entry.id === page);
  useEffect(() => {
    document.title = `${current ? `${current.title} · ` : ""}Stripe Connect Gateway`;
    // A page change moves the focus to the new page's heading, as a page load would.
    if (current && viewer && !firstPage.current) heading.current?.focus();
    if (current && viewer) firstPage.current = false;
  }, [current, viewer]);

  const saved = (config: StripeConfig) =>
    setViewer((before) => before && { ...before, stripeConfig: config });

  return (
    <>
      {/* A button, not a link to #main: the hash names the page. */}
      <button type="button" class="skip-link" onClick={skipToMain}>
        Skip to content
      </button>
      <header class="top">
        <div class="brand">
          <span class="brand-name">Stripe Connect Gateway</span>
          {viewer && <span class="org-name">{viewer.name}</span>}
        </div>
        <nav aria-label="Dashboard">
          <ul>
            {PAGES.map((entry) => (
              <li key={entry.id}>
                <a href={pageHref(entry.id)} aria-current={entry.id === page ? "page" : undefined}>
                  {entry.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="secondary sign-out" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {current && (
          <h1 ref={heading} tabIndex={-1}>
            {current.title}
          </h1>
        )}
        {error && <Notice kind="error">{error}</Notice>}
        {!viewer && !error && <p>Loading…</p>}
        {viewer && page && <Page page={page} viewer={viewer} onSaved={saved} />}
      </main>
    </>
  );
}

function skipToMain() {
  document.getElementById("main")?.focus();
}

function Page(props: { page: PageId; viewer: Viewer; onSaved(config: StripeConfig): void }) {
  switch (props.page) {
    case "platform":
      return <PlatformPage viewer={props.viewer} onSaved={props.onSaved} />;
    case "webhooks":
      return <WebhooksPage viewer={props.viewer} onSaved={props.onSaved} />;
    case "connections":
      return <ConnectionsPage />;
  }
}
