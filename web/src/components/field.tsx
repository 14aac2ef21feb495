import type { ComponentChildren } from "preact";

export type TextFieldProps = {
  id: string;
  label: string;
  value: string;
  onInput(value: string): void;
  type?: "text" | "password" | "url";
  hint?: ComponentChildren;
  /** Shown beside the field, which is then marked invalid. */
  error?: string | undefined;
  placeholder?: string;
  autoComplete?: string;
  /** Monospaced: ids, keys and URLs. */
  code?: boolean;
};

/** A labelled input with its hint and its error beside it, both read out with the field. */
export function TextField(props: TextFieldProps) {
  const hintId = props.hint ? `${props.id}-hint` : "";
  const errorId = props.error ? `${props.id}-error` : "";
  return (
    <div class={`field${props.error ? " field-invalid" : ""}`}>
      <label for={props.id}>{props.label}</label>
      {props.hint && (
        <p id={hintId} class="hint">
          {props.hint}
        </p>
      )}
      <input
        id={props.id}
        name={props.id}
        class={props.code ? "code" : undefined}
        // Preact types each input type apart; the attributes used here suit all three.
        type={(props.type ?? "text") as "text"}
        value={props.value}
        placeholder={props.placeholder}
        autoComplete={props.autoComplete ?? "off"}
        spellcheck={false}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={[errorId, hintId].filter(Boolean).join(" ") || undefined}
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
      {props.error && (
        <p id={errorId} class="field-error">
          {props.error}
        </p>
      )}
    </div>
  );
}
