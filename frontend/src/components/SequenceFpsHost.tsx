import { For, Show, createSignal } from "solid-js";
import { useEscapeCancels, useFocusTrap } from "../focusTrap";
import { DEFAULT_FPS, FPS_PRESETS, STATED, fpsLabel, parseFps, pendingFps, type FpsRequest } from "../sequenceFps";

const CUSTOM = "custom";

/** The dialog's choice for a remembered one: STATED, a preset's label, or CUSTOM. */
function choiceOf(initial: FpsRequest["initial"]): string {
  if (initial === STATED) return STATED;
  return FPS_PRESETS.some((p) => p.fps === initial) ? fpsLabel(initial) : CUSTOM;
}

/** The frame rate of a zip of images, asked before it is uploaded: the images' own (EXR,
 * DPX), the common rates, or any other typed in (checked before anything is sent). */
function SequenceFpsDialog(props: { request: FpsRequest }) {
  const initial = props.request.initial;
  const [choice, setChoice] = createSignal(choiceOf(initial));
  const [custom, setCustom] = createSignal(choiceOf(initial) === CUSTOM ? String(initial) : "");
  const [error, setError] = createSignal<string | null>(null);
  let dialog!: HTMLDivElement;
  let customInput!: HTMLInputElement;
  useFocusTrap(
    () => dialog,
    () => (choice() === CUSTOM ? customInput : (dialog.querySelector<HTMLElement>("input[type=radio]:checked") ?? undefined)),
  );

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    if (choice() === STATED) return props.request.resolve(STATED);
    const picked = FPS_PRESETS.find((p) => p.label === choice());
    if (picked) return props.request.resolve(picked.fps);
    const parsed = parseFps(custom());
    if ("error" in parsed) {
      setError(parsed.error);
      customInput.focus();
    } else props.request.resolve(parsed.fps);
  };

  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.request.resolve(null)}>
      <div class="modal modal-small" role="dialog" aria-modal="true" aria-labelledby="fps-title" data-testid="fps-dialog" ref={dialog}>
        <h2 id="fps-title">Frame rate of the image sequence</h2>
        <p class="muted">"{props.request.fileName}" holds numbered images; they become a video at this rate.</p>
        <form onSubmit={submit}>
          <fieldset>
            <legend>Frames per second</legend>
            <label class="check">
              <input type="radio" name="fps" value={STATED} checked={choice() === STATED} onChange={() => (setChoice(STATED), setError(null))} />
              As the images state (EXR, DPX; {DEFAULT_FPS} for others)
            </label>
            <div class="checks checks-grid">
              <For each={FPS_PRESETS}>
                {(p) => (
                  <label class="check">
                    <input type="radio" name="fps" value={p.label} checked={choice() === p.label} onChange={() => (setChoice(p.label), setError(null))} />
                    {p.label}
                  </label>
                )}
              </For>
              <label class="check">
                <input type="radio" name="fps" value={CUSTOM} checked={choice() === CUSTOM} onChange={() => (setChoice(CUSTOM), customInput.focus())} />
                Other
              </label>
            </div>
            <label class="field field-inline">
              <span>Other rate (fps)</span>
              <input
                ref={customInput}
                class="input"
                type="text"
                inputmode="decimal"
                data-testid="fps-custom"
                value={custom()}
                aria-invalid={error() !== null}
                aria-describedby={error() ? "fps-error" : undefined}
                onFocus={() => setChoice(CUSTOM)}
                onInput={(e) => (setCustom(e.currentTarget.value), setChoice(CUSTOM), setError(null))}
              />
            </label>
            <Show when={error()}>
              <div id="fps-error" class="error-text fps-error" role="alert" data-testid="fps-error">
                {error()}
              </div>
            </Show>
          </fieldset>
          <div class="modal-actions">
            <button type="button" class="btn" data-testid="fps-cancel" onClick={() => props.request.resolve(null)}>
              Cancel
            </button>
            <button type="submit" class="btn btn-primary" data-testid="fps-ok">
              Upload
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}

export function SequenceFpsHost() {
  useEscapeCancels(() => {
    const p = pendingFps();
    return p && (() => p.resolve(null));
  });
  return (
    <Show when={pendingFps()} keyed>
      {(p) => <SequenceFpsDialog request={p} />}
    </Show>
  );
}
