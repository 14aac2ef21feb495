import type { ComponentChildren } from "preact";

export type NoticeKind = "error" | "warning" | "success" | "info";

/** A message about what just happened: errors interrupt (alert), the rest wait their turn (status). */
export function Notice(props: { kind: NoticeKind; title?: string; children?: ComponentChildren }) {
  return (
    <div class={`notice notice-${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.title && <p class="notice-title">{props.title}</p>}
      {props.children}
    </div>
  );
}
