import { Show, createSignal } from "solid-js";
import { errorText, urls, type MatteObject, type Project } from "../api";
import { storedErrorText, withObjectNames } from "../editor/objects";
import { DEFAULT_EXPORT, exportChoice, formatLabels, lastChoice, saveExportChoice, toJobExport, type ExportChoice } from "../exportChoice";
import { useEscapeCancels, useFocusTrap } from "../focusTrap";
import { useFocusKept } from "../listFocus";
import type { JobsStore } from "../jobs";
import type { InOut } from "../editor/inout";
import type { PointMap } from "../points";
import { canResume, isTerminal } from "../sse";
import { archiveQuery } from "../validation";
import { MattingForm } from "./MattingForm";
import { JobProgressBar, StatusBadge } from "./ProgressBar";
import { Icon } from "./Icon";
import { onDownloadClick } from "../download";

export interface MattingDialogProps {
  project: Project;
  objects: MatteObject[];
  points: PointMap;
  /** In..Out: the range the form starts from when set. */
  inout?: InOut;
  /** Objects whose DELETE is on its way: left out of a new job. */
  deleting?: ReadonlySet<number>;
  jobs: JobsStore;
  onClose: () => void;
  onView: (jid: string) => void;
}

export function MattingDialog(props: MattingDialogProps) {
  const saved = lastChoice(); // where a new run starts from
  const [jobId, setJobId] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  /** The server's text with objects named as the list names them (it says "object 2"). */
  const named = (text: string) => withObjectNames(text, props.objects);
  const job = () => (jobId() ? props.jobs.get(jobId()!) : undefined);
  const choice = () => exportChoice(job() ?? { id: jobId()! }); // read in the job view only: there is a job id
  let dialog!: HTMLDivElement;
  /** The form's first field (Start): where the dialog starts, and where a new run does. */
  const firstField = () => dialog.querySelector<HTMLElement>("form input") ?? undefined;
  useFocusTrap(() => dialog, firstField);
  let close!: HTMLButtonElement;
  /** Where the keyboard goes when the control it was on goes with the job's state (Run once the
   * job starts, Cancel once it ends): the result's View when there is one, else the job view's
   * Close ("Run in background" while it runs: safe on Enter), else the dialog's ×. */
  const jobControl = () =>
    dialog.querySelector<HTMLElement>("[data-testid=job-view-result]") ?? dialog.querySelector<HTMLElement>("[data-testid=matting-close]") ?? close;
  useFocusKept(() => dialog, jobControl);

  useEscapeCancels(() => props.onClose);

  /** Back to the form: the button is gone with the job's view, the keyboard goes on in it. */
  const newRun = () => {
    setJobId(null);
    firstField()?.focus();
  };

  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="modal" role="dialog" aria-modal="true" aria-label="Matting" data-testid="matting-dialog" ref={dialog}>
        <div class="modal-head">
          <h2>Matting</h2>
          <span class="muted modal-name" title={props.project.name}>
            {props.project.name}
          </span>
          <button ref={close} class="icon-btn" aria-label="Close" onClick={() => props.onClose()}>
            <Icon name="close" />
          </button>
        </div>
        {/* A live region is heard when its text changes, not when it comes with its text: this
            one is in the dialog from its start, and says what the view below shows. */}
        <p class="visually-hidden" role="status" aria-live="polite" data-testid="matting-said">
          {jobId() && !job() ? "This result was deleted, in another tab or window." : ""}
        </p>
        <Show
          when={jobId()}
          fallback={
            <>
              <MattingForm
                frameCount={props.project.video.frame_count}
                objects={props.objects}
                points={props.points}
                inout={props.inout}
                deleting={props.deleting}
                initialFormats={saved.formats}
                initialBackground={saved.background}
                busy={busy()}
                onCancel={props.onClose}
                onRun={async (d) => {
                  setBusy(true);
                  setError(null);
                  try {
                    // Exactly what the form shows: what it doesn't (raw colour, mattes, edge) is the default.
                    const chosen: ExportChoice = { ...DEFAULT_EXPORT, formats: [...d.formats], background: d.background };
                    const created = await props.jobs.create({ start: d.start, end: d.end, object_ids: [...d.objectIds], export: toJobExport(chosen) });
                    saveExportChoice(chosen, created.id);
                    setJobId(created.id);
                    jobControl().focus(); // the form's Run button is gone: keep the keyboard in the dialog
                  } catch (e) {
                    setError(named(errorText(e)));
                  } finally {
                    setBusy(false);
                  }
                }}
              />
              <Show when={error()}>
                <div class="error-box" data-testid="error-message" role="alert">
                  Could not start matting: {error()}
                </div>
              </Show>
            </>
          }
        >
          {/* The job is in the list from its start: gone from it, it was deleted (in another
              tab or window; this one's list is behind the dialog), not on its way. */}
          <Show
            when={job()}
            fallback={
              <div class="job-view">
                <p class="muted" data-testid="job-gone">
                  This result was deleted, in another tab or window.
                </p>
                <div class="modal-actions">
                  <button class="btn" data-testid="job-new-run" onClick={newRun}>
                    New run
                  </button>
                  <button class="btn" data-testid="matting-close" onClick={() => props.onClose()}>
                    Close
                  </button>
                </div>
              </div>
            }
          >
            {(j) => (
              <div class="job-view" data-testid="job-view" data-job-id={j().id}>
                <div class="job-line">
                  <StatusBadge status={j().status} testid="job-status" />
                  <span class="muted">
                    frames {j().start}–{j().end}
                  </span>
                </div>
                <JobProgressBar job={j()} testid="job-progress" />
                <Show when={j().error}>
                  {(error) => (
                    <div class="error-box" role="alert">
                      {storedErrorText(error(), props.objects)}
                    </div>
                  )}
                </Show>
                <Show when={j().status === "done"}>
                  <p class="muted small download-formats" data-testid="download-formats">
                    The ZIP holds: {formatLabels(choice().formats).join(", ")}.
                  </p>
                </Show>
                <div class="modal-actions">
                  <Show when={!isTerminal(j().status)}>
                    <button class="btn btn-danger" data-testid="job-cancel" onClick={() => void props.jobs.cancel(j().id)}>
                      Cancel
                    </button>
                  </Show>
                  <Show when={canResume(j())}>
                    <button
                      class="btn"
                      data-testid="job-resume"
                      disabled={props.jobs.resuming(j().id)}
                      onClick={() => void props.jobs.resume(j().id)}
                    >
                      Resume
                    </button>
                  </Show>
                  <Show when={j().status === "done"}>
                    <button class="btn" data-testid="job-view-result" onClick={() => props.onView(j().id)}>
                      View result
                    </button>
                    <a
                      class="btn btn-primary"
                      data-testid="download-link"
                      href={urls.archive(j().id, archiveQuery(choice().formats, choice().background, choice()))}
                      download=""
                      onClick={onDownloadClick}
                    >
                      <Icon name="download" size={14} /> Download ZIP
                    </a>
                  </Show>
                  <button
                    class="btn"
                    data-testid="job-new-run"
                    onClick={newRun}
                  >
                    New run
                  </button>
                  <button class="btn" data-testid="matting-close" onClick={() => props.onClose()}>
                    {isTerminal(j().status) ? "Close" : "Run in background"}
                  </button>
                </div>
              </div>
            )}
          </Show>
        </Show>
      </div>
    </div>
  );
}
