import { For, Show, createMemo, createSignal } from "solid-js";
import type { Job, MatteObject } from "../api";
import { OVERLAY_MODES, type OverlayMode } from "../compose";
import type { JobsStore } from "../jobs";
import { storedErrorText } from "../editor/objects";
import { viewable } from "../editor/results";
import { tabStops } from "../focusTrap";
import { useFocusKept, useListFocus } from "../listFocus";
import { confirmAction } from "../confirm";
import { canResume, isTerminal } from "../sse";
import type { InOut } from "../editor/inout";
import { DownloadControl, jobObjectName } from "./DownloadControl";
import { JobProgressBar, StatusBadge } from "./ProgressBar";
import { Icon } from "./Icon";

export interface ResultsPanelProps {
  jobs: JobsStore;
  objects: MatteObject[];
  activeJobId: string | null;
  mode: OverlayMode;
  onActivate: (jid: string | null) => void;
  onMode: (mode: OverlayMode) => void;
  /** The editor's In/Out marks: a result's download can take its part from them. */
  inout?: InOut;
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

/** A result as its row's buttons name it for a screen reader, which hears no row around them:
 * its frames, and when it was made (two runs of the same frames told apart). */
function resultName(j: Job): string {
  return `the result of frames ${j.start}–${j.end}, made ${when(j.created_at)}`;
}

export function ResultsPanel(props: ResultsPanelProps) {
  const active = () => (props.activeJobId ? props.jobs.get(props.activeJobId) : undefined);
  const objectById = (id: number) => props.objects.find((o) => o.id === id);
  const byId = createMemo(() => new Map(props.jobs.jobs().map((j) => [j.id, j])));
  let list!: HTMLUListElement;
  let reload!: HTMLButtonElement;
  // A deleted result's row goes under the keyboard: the row now in its place takes the focus.
  useListFocus(() => list, ".result-item", "button", () => reload);
  /** The view the stage shows: Prompts when the result on view is gone (deleted in another tab
   * or window) or not viewable, rather than a chosen view that shows nothing. */
  const mode = () => (viewable(active()) ? props.mode : "off");
  // Results whose DELETE is on its way (a large one's mattes take a while): not asked again.
  const [removing, setRemoving] = createSignal<ReadonlySet<string>>(new Set());
  /** What the panel last said to a screen reader: a deleted row just goes, silently otherwise. */
  const [said, setSaid] = createSignal("");
  const remove = async (id: string) => {
    const j = byId().get(id);
    if (!j || removing().has(id)) return;
    // The server cancels a queued or running job before deleting it: said before, not after.
    const active = isTerminal(j.status) ? "" : ` It is ${j.status}: it will be cancelled first.`;
    const ok = await confirmAction({
      title: "Delete result?",
      message: `The result of frames ${j.start}–${j.end} will be deleted with its mattes, freeing their disk space; the project and its other results stay.${active} This cannot be undone.`,
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok || removing().has(id)) return;
    setRemoving((ids) => new Set([...ids, id]));
    try {
      if (await props.jobs.remove(id)) {
        setSaid(`Deleted ${resultName(j)}.`);
        if (props.activeJobId === id) props.onActivate(null);
      }
    } finally {
      setRemoving((ids) => new Set([...ids].filter((x) => x !== id)));
    }
  };
  return (
    <section class="section results">
      <div class="section-head">
        <h3>Results</h3>
        <button ref={reload} class="icon-btn" title="Reload results" aria-label="Reload results" onClick={() => void props.jobs.refresh()}>
          <Icon name="refresh" size={14} />
        </button>
      </div>
      <div class="overlay-modes" role="radiogroup" aria-label="Result view" data-testid="overlay-mode" data-mode={mode()}>
        <For each={OVERLAY_MODES}>
          {(m) => (
            <button
              role="radio"
              aria-checked={mode() === m.id}
              class={`seg ${mode() === m.id ? "on" : ""}`}
              data-testid={`overlay-mode-${m.id}`}
              data-mode={m.id}
              disabled={m.id !== "off" && !viewable(active())}
              title={m.id === "off" ? "Edit prompts with the live preview" : viewable(active()) ? m.label : "Select a result first"}
              onClick={() => props.onMode(m.id)}
            >
              {m.label}
            </button>
          )}
        </For>
      </div>
      <Show when={!props.jobs.loading() && props.jobs.jobs().length === 0}>
        <p class="muted small">No results yet. Add points, then press Matting.</p>
      </Show>
      <p class="visually-hidden" role="status" aria-live="polite" data-testid="results-said">
        {said()}
      </p>
      <ul ref={list} class="result-list" data-testid="result-list">
        {/* Rows by job id: each progress event (and each re-read of the list) brings a job as a
            new object, which would make its row anew, closing its download menu and taking the
            focus from whatever the user was in. */}
        <For each={props.jobs.jobs().map((j) => j.id)}>
          {(id) => {
            const j = () => byId().get(id)!;
            // Cancel and Resume go when the job's status changes: the keyboard stays on the
            // row (its View, else what the row now offers) rather than dropping to the page's top.
            let row!: HTMLLIElement;
            useFocusKept(() => row, () => tabStops(row)[0]);
            return (
              <li ref={row} class={`result-item ${props.activeJobId === id ? "selected" : ""}`} data-testid="result-item" data-job-id={id} data-status={j().status}>
                <div class="result-line">
                  <StatusBadge status={j().status} testid="result-status" />
                  <span class="mono">
                    {j().start}–{j().end}
                  </span>
                  {/* The colours name their objects only on hover: a screen reader hears them here. */}
                  <span class="swatches" role="img" aria-label={`Objects: ${j().object_ids.map((oid) => jobObjectName(j(), oid, props.objects)).join(", ")}`}>
                    <For each={j().object_ids}>
                      {(oid) => <span class="swatch swatch-small" title={jobObjectName(j(), oid, props.objects)} style={{ background: objectById(oid)?.color ?? "#666" }} />}
                    </For>
                  </span>
                  <span class="muted small grow">{when(j().created_at)}</span>
                </div>
                <Show when={!isTerminal(j().status) || (j().status !== "done" && j().frames_done > 0)}>
                  <JobProgressBar job={j()} testid="result-progress" compact />
                </Show>
                <Show when={j().error}>
                  {(error) => (
                    <div class="small error-text" title={storedErrorText(error(), props.objects)}>
                      {storedErrorText(error(), props.objects)}
                    </div>
                  )}
                </Show>
                <div class="result-actions">
                  <Show when={viewable(j())}>
                    <button
                      class={`btn btn-small ${props.activeJobId === id ? "btn-on" : ""}`}
                      data-testid="result-view"
                      aria-label={`${props.activeJobId === id ? "Viewing" : "View"} ${resultName(j())}`}
                      aria-pressed={props.activeJobId === id}
                      onClick={() => props.onActivate(props.activeJobId === id ? null : id)}
                    >
                      {props.activeJobId === id ? "Viewing" : "View"}
                    </button>
                    <DownloadControl job={j()} objects={props.objects} inout={props.inout} />
                  </Show>
                  <Show when={!isTerminal(j().status)}>
                    <button class="btn btn-small btn-danger" data-testid="result-cancel" aria-label={`Cancel ${resultName(j())}`} onClick={() => void props.jobs.cancel(id)}>
                      Cancel
                    </button>
                  </Show>
                  <Show when={canResume(j())}>
                    <button class="btn btn-small" data-testid="result-resume" aria-label={`Resume ${resultName(j())}`} disabled={props.jobs.resuming(id)} onClick={() => void props.jobs.resume(id)}>
                      Resume
                    </button>
                  </Show>
                  <button
                    class="btn btn-small"
                    data-testid="result-delete"
                    aria-label={`${removing().has(id) ? "Deleting" : "Delete"} ${resultName(j())}`}
                    // Not disabled: the focus, back on it from the question, stays on the row.
                    aria-disabled={removing().has(id) ? "true" : undefined}
                    onClick={() => void remove(id)}
                  >
                    {removing().has(id) ? "Deleting…" : "Delete"}
                  </button>
                </div>
              </li>
            );
          }}
        </For>
      </ul>
    </section>
  );
}
