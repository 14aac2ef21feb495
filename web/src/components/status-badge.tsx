const LABELS: Record<string, string> = {
  PENDING: "Pending",
  SYNCING: "Syncing",
  READY: "Ready",
  UNHEALTHY: "Unhealthy",
  NEEDS_REAUTH: "Needs reauthorization",
  DISCONNECTED: "Disconnected",
  EXPIRED: "Expired",
};

/** A connection's status as words (colour only repeats them). */
export function StatusBadge(props: { status: string }) {
  return (
    <span class={`badge badge-${props.status.toLowerCase()}`} data-status={props.status}>
      {LABELS[props.status] ?? props.status}
    </span>
  );
}
