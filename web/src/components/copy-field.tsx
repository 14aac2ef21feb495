import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";

/** A value to paste elsewhere: read-only, selectable, with a Copy button that says when it copied. */
export function CopyField(props: { id: string; label: string; value: string; hint?: ComponentChildren }) {
  const input = useRef<HTMLInputElement>(null);
  const [said, setSaid] = useState("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      setSaid("Copied.");
    } catch {
      // No clipboard access (an http page other than localhost): select it for Ctrl+C.
      input.current?.select();
      setSaid("Selected: press Ctrl+C (⌘C) to copy.");
    }
  };
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint && (
        <p id={hintId} class="hint">
          {props.hint}
        </p>
      )}
      <div class="copy-row">
        <input
          ref={input}
          id={props.id}
          class="code"
          type="text"
          readOnly
          value={props.value}
          aria-describedby={hintId}
          onFocus={(event) => event.currentTarget.select()}
        />
        <button type="button" class="secondary" onClick={copy} aria-label={`Copy ${props.label}`}>
          Copy
        </button>
      </div>
      <p class="copy-said" role="status">
        {said}
      </p>
    </div>
  );
}
