import { useEffect, useRef, useState } from "preact/hooks";
import { ChargeUpdated, PayoutUpdated } from "../documents.ts";
import { formatAmount, formatTime } from "../format.ts";
import { subscribe } from "../live.ts";

type Entry = {
  key: string;
  kind: "Payout" | "Charge";
  stripeId: string;
  status: string;
  amount: number;
  currency: string;
  connectionId: string;
  receivedAt: string;
};

/** The newest updates kept on screen. */
const KEPT = 50;
const STREAMS = ["payouts", "charges"] as const;

/**
 * Every new state of a payout or charge of the org's connections, as the gateway pushes it (from a webhook,
 * a reconcile or a backfill). Pausing stops additions (and their announcements) until resumed.
 */
export function LiveFeed(props: { accountOf(connectionId: string): string | null }) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [held, setHeld] = useState<Entry[]>([]);
  const [paused, setPaused] = useState(false);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState("");
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  useEffect(() => {
    const add = (entry: Entry) => {
      const into = pausedRef.current ? setHeld : setEntries;
      // The same state published twice (say, by two events of one change) says nothing new.
      into((list) => (list.some((seen) => seen.key === entry.key) ? list : [entry, ...list].slice(0, KEPT)));
    };
    const opened = (stream: string) => () => {
      setError("");
      setOpen((streams) => new Set(streams).add(stream));
    };
    const failed = (stream: string) => (message: string) => {
      setError(message);
      setOpen((streams) => {
        const next = new Set(streams);
        next.delete(stream);
        return next;
      });
    };
    const now = () => new Date().toISOString();
    const unsubscribe = [
      subscribe(
        PayoutUpdated,
        {},
        {
          next: ({ payoutUpdated: payout }) =>
            add({ key: `${payout.id}@${payout.updatedAt}`, kind: "Payout", receivedAt: now(), ...payout }),
          error: failed("payouts"),
          connected: opened("payouts"),
        },
      ),
      subscribe(
        ChargeUpdated,
        {},
        {
          next: ({ chargeUpdated: charge }) =>
            add({ key: `${charge.id}@${charge.updatedAt}`, kind: "Charge", receivedAt: now(), ...charge }),
          error: failed("charges"),
          connected: opened("charges"),
        },
      ),
    ];
    return () => {
      for (const stop of unsubscribe) stop();
    };
  }, []);

  const togglePause = () => {
    if (paused) {
      setEntries((list) => [...held, ...list].slice(0, KEPT));
      setHeld([]);
    }
    setPaused(!paused);
  };

  const live = STREAMS.every((stream) => open.has(stream));
  return (
    <section aria-labelledby="feed-heading" class="feed-section">
      <div class="section-head">
        <h2 id="feed-heading">Live feed</h2>
        <span class={`live-state${live ? " is-live" : ""}`}>
          {live ? "Live" : error ? "Reconnecting…" : "Connecting…"}
        </span>
        <button type="button" class="secondary" aria-pressed={paused} onClick={togglePause}>
          {paused ? `Resume${held.length ? ` (${held.length} new)` : ""}` : "Pause"}
        </button>
      </div>
      <p class="hint">
        Payout and charge updates of your connected accounts, pushed as Stripe's webhooks arrive and as syncs
        write them; no reload needed.
      </p>
      {error && <p class="feed-error">{error}</p>}
      <div
        class="feed-scroll"
        role="log"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls must take the focus, for the keyboard to scroll it
        tabIndex={0}
        aria-live={paused ? "off" : "polite"}
        aria-label="Payout and charge updates"
      >
        <ol class="feed">
          {entries.map((entry) => (
            <li key={entry.key} class="feed-entry">
              <time dateTime={entry.receivedAt}>{formatTime(entry.receivedAt)}</time>
              <span class={`feed-kind feed-kind-${entry.kind.toLowerCase()}`}>{entry.kind}</span>
              <code>{entry.stripeId}</code>
              <strong class="feed-status">{entry.status}</strong>
              <span>{formatAmount(entry.amount, entry.currency)}</span>
              <span class="feed-account">{props.accountOf(entry.connectionId) ?? ""}</span>
            </li>
          ))}
        </ol>
      </div>
      {entries.length === 0 && <p class="feed-empty">No updates yet.</p>}
    </section>
  );
}
