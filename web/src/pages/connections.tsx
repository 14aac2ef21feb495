import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { errorMessage, request } from "../api.ts";
import { Notice } from "../components/notice.tsx";
import { StatusBadge } from "../components/status-badge.tsx";
import {
  ConnectionsQuery,
  ConnectionUpdated,
  DisconnectConnection,
  ResyncConnection,
  StartConnection,
} from "../documents.ts";
import { formatDateTime } from "../format.ts";
import type { ConnectionFieldsFragment, StripeConnectionStatus } from "../graphql/graphql.ts";
import { subscribe } from "../live.ts";
import { pageHref } from "../route.ts";
import { LiveFeed } from "./live-feed.tsx";

type Connection = ConnectionFieldsFragment;

const PAGE_SIZE = 25;
/** The most `first` the gateway takes. */
const MAX_PAGE_SIZE = 100;
/** Every status: without a status filter, stripeConnections leaves out EXPIRED (abandoned connect attempts). */
const ALL_STATUSES: StripeConnectionStatus[] = [
  "PENDING",
  "SYNCING",
  "READY",
  "UNHEALTHY",
  "NEEDS_REAUTH",
  "DISCONNECTED",
  "EXPIRED",
];
/** While a connection syncs, its per-resource counts are re-read this often (they are not pushed). */
const PROGRESS_REFRESH_MS = 2_000;

/** What Stripe's return said (?status=…&error=… on the way back from OAuth), read once and removed. */
function takeOAuthReturn(): { kind: "success" | "error"; text: string } | null {
  const params = new URLSearchParams(location.search);
  const status = params.get("status");
  if (!status) return null;
  history.replaceState(null, "", `${location.pathname}${location.hash}`);
  if (status === "success") {
    return {
      kind: "success",
      text: "Stripe account connected. Its first sync runs now: it turns Ready when done.",
    };
  }
  const error = params.get("error") ?? "unknown";
  return {
    kind: "error",
    text:
      error === "access_denied"
        ? "The connection was denied on Stripe's page: nothing was connected."
        : `The connection failed (${error}).`,
  };
}

const statusFilter = (showExpired: boolean) => (showExpired ? ALL_STATUSES : null);

/** The list with `updated` in place of its older copy. */
function merge(list: readonly Connection[], updated: Connection): Connection[] {
  return list.map((connection) => (connection.id === updated.id ? updated : connection));
}

export function ConnectionsPage() {
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [more, setMore] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [notConfigured, setNotConfigured] = useState(false);
  const [returned] = useState(takeOAuthReturn);
  const [connecting, setConnecting] = useState(false);
  const [showExpired, setShowExpired] = useState(false);
  const [total, setTotal] = useState<number | null>(null);

  const load = useCallback(
    async (count: number) => {
      try {
        const { stripeConnections } = await request(ConnectionsQuery, {
          first: count,
          status: statusFilter(showExpired),
        });
        setConnections(stripeConnections.edges.map((edge) => edge.node));
        setTotal(stripeConnections.totalCount);
        setMore(
          stripeConnections.pageInfo.hasNextPage ? (stripeConnections.pageInfo.endCursor ?? null) : null,
        );
      } catch (caught) {
        setError(errorMessage(caught));
      }
    },
    [showExpired],
  );

  const loadMore = async () => {
    if (!more) return;
    try {
      const { stripeConnections } = await request(ConnectionsQuery, {
        first: PAGE_SIZE,
        after: more,
        status: statusFilter(showExpired),
      });
      setConnections((list) => [...(list ?? []), ...stripeConnections.edges.map((edge) => edge.node)]);
      setMore(stripeConnections.pageInfo.hasNextPage ? (stripeConnections.pageInfo.endCursor ?? null) : null);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };

  useEffect(() => {
    void load(PAGE_SIZE);
  }, [load]);

  // What the subscription needs of the latest render.
  const latest = useRef({ ids: new Set<string>(), showExpired, load });
  latest.current = { ids: new Set(connections?.map((connection) => connection.id)), showExpired, load };
  useEffect(
    () =>
      subscribe(
        ConnectionUpdated,
        {},
        {
          next: ({ connectionUpdated: updated }) => {
            const { ids, showExpired, load } = latest.current;
            // A connection not listed yet (another tab started it): the list again, with its count.
            if (!ids.has(updated.id)) void load(Math.min(MAX_PAGE_SIZE, Math.max(PAGE_SIZE, ids.size + 1)));
            else if (updated.status === "EXPIRED" && !showExpired) void load(Math.max(PAGE_SIZE, ids.size));
            else setConnections((list) => merge(list ?? [], updated));
          },
          error: setError,
        },
      ),
    [],
  );

  const syncing = connections?.some((connection) => connection.status === "SYNCING") ?? false;
  const shown = connections?.length ?? 0;
  useEffect(() => {
    if (!syncing) return;
    const timer = setInterval(
      () => void load(Math.min(MAX_PAGE_SIZE, Math.max(PAGE_SIZE, shown))),
      PROGRESS_REFRESH_MS,
    );
    return () => clearInterval(timer);
  }, [syncing, shown, load]);

  const connect = async (reconnectConnectionId?: string) => {
    setConnecting(true);
    setError("");
    setNotConfigured(false);
    try {
      // Back to this page after Stripe's consent page (the gateway adds ?status=… to it).
      const returnUrl = `${location.origin}${location.pathname}${pageHref("connections")}`;
      const { startStripeConnection: result } = await request(StartConnection, {
        input: { returnUrl, reconnectConnectionId: reconnectConnectionId ?? null },
      });
      if (result.__typename === "StartStripeConnectionSuccess") {
        location.assign(result.authorizationUrl);
        return;
      }
      setError(result.message);
      setNotConfigured(result.__typename === "StripeNotConfiguredError");
    } catch (caught) {
      setError(errorMessage(caught));
    }
    setConnecting(false);
  };

  const replace = (connection: Connection) => setConnections((list) => merge(list ?? [], connection));
  const accountOf = (connectionId: string) =>
    connections?.find((connection) => connection.id === connectionId)?.stripeAccountId ?? null;

  return (
    <>
      <section aria-labelledby="accounts-heading">
        <div class="section-head">
          <h2 id="accounts-heading">Connected accounts</h2>
          <button type="button" onClick={() => void connect()} disabled={connecting}>
            {connecting ? "Opening Stripe…" : "Connect a Stripe account"}
          </button>
        </div>
        <p class="hint">
          Opens Stripe's authorization page, as your customers will see it; you come back here afterwards.
        </p>
        {returned && <Notice kind={returned.kind}>{returned.text}</Notice>}
        {error && (
          <Notice kind="error">
            {error}
            {notConfigured && (
              <>
                {" "}
                Set it up on the <a href={pageHref("platform")}>Stripe platform</a> page.
              </>
            )}
          </Notice>
        )}
        <div class="list-options">
          <p class="count" aria-live="polite">
            {total === null ? "" : `${total} connection${total === 1 ? "" : "s"}`}
          </p>
          <label class="choice">
            <input
              type="checkbox"
              checked={showExpired}
              onChange={(event) => setShowExpired(event.currentTarget.checked)}
            />
            Show expired connect attempts
          </label>
        </div>
        {connections === null && !error && <p>Loading connections…</p>}
        {connections?.length === 0 && <p>No Stripe account is connected yet.</p>}
        {connections && connections.length > 0 && (
          <ul class="connections">
            {connections.map((connection) => (
              <ConnectionCard
                key={connection.id}
                connection={connection}
                onChanged={replace}
                onError={setError}
                onReconnect={() => void connect(connection.id)}
              />
            ))}
          </ul>
        )}
        {more && (
          <button type="button" class="secondary" onClick={loadMore}>
            Show more connections
          </button>
        )}
      </section>
      <LiveFeed accountOf={accountOf} />
    </>
  );
}

function ConnectionCard(props: {
  connection: Connection;
  onChanged(connection: Connection): void;
  onError(message: string): void;
  onReconnect(): void;
}) {
  const { connection } = props;
  const [busy, setBusy] = useState(false);
  const titleId = `connection-${connection.id}`;
  const title =
    connection.account?.businessName ?? connection.stripeAccountId ?? "Waiting for Stripe's consent";

  const act = async (action: "resync" | "disconnect") => {
    if (action === "disconnect" && !confirm(`Disconnect ${title}? The gateway stops syncing it.`)) return;
    setBusy(true);
    try {
      if (action === "resync") {
        const { resyncStripeConnection: result } = await request(ResyncConnection, { id: connection.id });
        if (result.__typename === "ResyncStripeConnectionSuccess") props.onChanged(result.connection);
        else props.onError(result.message);
      } else {
        const { disconnectStripeConnection: result } = await request(DisconnectConnection, {
          id: connection.id,
        });
        if (result.__typename === "DisconnectStripeConnectionSuccess") props.onChanged(result.connection);
        else props.onError(result.message);
      }
    } catch (caught) {
      props.onError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  const active = connection.status !== "DISCONNECTED" && connection.status !== "PENDING";
  const reconnect = connection.status === "NEEDS_REAUTH" || connection.status === "DISCONNECTED";
  return (
    <li class="connection" aria-labelledby={titleId}>
      <div class="connection-head">
        <h3 id={titleId}>{title}</h3>
        <StatusBadge status={connection.status} />
      </div>
      <dl class="facts">
        <div>
          <dt>Account</dt>
          <dd>
            <code>{connection.stripeAccountId ?? "—"}</code>
            {connection.livemode === false ? " (test mode)" : ""}
          </dd>
        </div>
        <div>
          <dt>Connection</dt>
          <dd>
            <code>{connection.plainId}</code>
          </dd>
        </div>
        <div>
          <dt>Method</dt>
          <dd>{connection.method === "STRIPE_APP" ? "Stripe App" : "Legacy Connect"}</dd>
        </div>
        <div>
          <dt>Last sync</dt>
          <dd>{formatDateTime(connection.lastSyncedAt)}</dd>
        </div>
        {connection.nextSyncAt && (
          <div>
            <dt>Next sync</dt>
            <dd>{formatDateTime(connection.nextSyncAt)}</dd>
          </div>
        )}
      </dl>
      {connection.lastError && (
        <p class="connection-error">
          <strong>Last error:</strong> {connection.lastError}
          {connection.lastErrorCode ? ` (${connection.lastErrorCode})` : ""}
        </p>
      )}
      {connection.syncStates.length > 0 && <SyncProgress connection={connection} title={title} />}
      <div class="actions">
        {active && (
          <button type="button" class="secondary" disabled={busy} onClick={() => void act("resync")}>
            Resync
          </button>
        )}
        {reconnect && (
          <button type="button" class="secondary" disabled={busy} onClick={props.onReconnect}>
            Reconnect
          </button>
        )}
        {connection.status !== "DISCONNECTED" && (
          <button type="button" class="danger" disabled={busy} onClick={() => void act("disconnect")}>
            Disconnect
          </button>
        )}
      </div>
    </li>
  );
}

function SyncProgress(props: { connection: Connection; title: string }) {
  const states = props.connection.syncStates;
  const done = states.filter((state) => state.status === "done").length;
  const synced = states.reduce((sum, state) => sum + state.objectsSynced, 0);
  return (
    <details class="sync-progress" open={props.connection.status === "SYNCING"}>
      <summary>
        Sync progress: {done} of {states.length} resources done, {synced.toLocaleString()} objects
      </summary>
      <progress value={done} max={states.length} aria-label={`Resources synced for ${props.title}`} />
      <table>
        <caption class="visually-hidden">Sync progress of {props.title}</caption>
        <thead>
          <tr>
            <th scope="col">Resource</th>
            <th scope="col">Status</th>
            <th scope="col">Synced</th>
            <th scope="col">Skipped</th>
            <th scope="col">Last synced</th>
          </tr>
        </thead>
        <tbody>
          {states.map((state) => (
            <tr key={state.resource}>
              <th scope="row">
                <code>{state.resource}</code>
              </th>
              <td>
                {state.status}
                {state.error ? <span class="state-error"> — {state.error}</span> : null}
              </td>
              <td class="number">{state.objectsSynced.toLocaleString()}</td>
              <td class="number">{state.objectsSkipped.toLocaleString()}</td>
              <td>{formatDateTime(state.lastSyncedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
