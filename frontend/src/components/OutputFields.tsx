import { For } from "solid-js";
import { OUTPUT_FORMATS, normaliseHexColor } from "../validation";

export interface OutputFieldsProps {
  formats: string[];
  /** As typed: six hex digits once valid (the form says why it cannot run otherwise). */
  background: string;
  onFormat: (id: string, on: boolean) => void;
  onBackground: (hex: string) => void;
}

/** The Matting form's outputs: which formats, and the composite's background colour (picked or typed). */
export function OutputFields(props: OutputFieldsProps) {
  return (
    <fieldset>
      <legend>Output formats</legend>
      <div class="checks checks-grid">
        <For each={OUTPUT_FORMATS}>
          {(f) => (
            <label class="check">
              <input
                type="checkbox"
                data-testid="matting-format"
                data-format={f.id}
                checked={props.formats.includes(f.id)}
                onChange={(e) => props.onFormat(f.id, e.currentTarget.checked)}
              />
              <span>{f.label}</span>
              <span class="muted small">{f.hint}</span>
            </label>
          )}
        </For>
      </div>
      <label class="field field-inline">
        <span>Composite background</span>
        <input
          type="color"
          class="color-input"
          aria-label="Background colour"
          value={`#${normaliseHexColor(props.background) ?? "00ff00"}`}
          onInput={(e) => props.onBackground(e.currentTarget.value.slice(1))}
        />
        <input
          class="input mono input-hex"
          data-testid="matting-background"
          // The label around both names the picker only (a label names its first control).
          aria-label="Background colour, six hex digits"
          value={props.background}
          maxLength={7}
          onInput={(e) => props.onBackground(e.currentTarget.value.replace(/^#/, ""))}
        />
      </label>
    </fieldset>
  );
}
