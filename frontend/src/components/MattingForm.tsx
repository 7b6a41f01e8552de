import { For, Show, createMemo, createSignal } from "solid-js";
import type { MatteObject } from "../api";
import { mattingRange, NO_INOUT, workRange, type InOut } from "../editor/inout";
import { framesWithPoints, promptedRange, type PointMap } from "../points";
import { normaliseHexColor, validateJobDraft, type JobDraft } from "../validation";
import { FrameField } from "./FrameField";
import { OutputFields } from "./OutputFields";

export interface MattingFormProps {
  frameCount: number;
  objects: MatteObject[];
  points: PointMap;
  /** In..Out: when any is set, the range starts there instead of at the prompted range. */
  inout?: InOut;
  initialFormats: string[];
  initialBackground: string;
  /** Objects whose DELETE is on its way: never in a job (the server would refuse it naming them). */
  deleting?: ReadonlySet<number>;
  busy?: boolean;
  onRun: (draft: JobDraft) => void;
  onCancel: () => void;
}

function parseFrame(v: string): number {
  return v.trim() === "" ? NaN : Number(v);
}

export function MattingForm(props: MattingFormProps) {
  const withPoints = () => props.objects.filter((o) => framesWithPoints(props.points, [o.id]).length > 0).map((o) => o.id);
  const initialObjects = withPoints();
  const initialRange = mattingRange(props.inout ?? NO_INOUT, props.frameCount, promptedRange(props.points, initialObjects));

  const [start, setStart] = createSignal(String(initialRange.start));
  const [end, setEnd] = createSignal(String(initialRange.end));
  const [objectIds, setObjectIds] = createSignal<number[]>(initialObjects);
  const [formats, setFormats] = createSignal<string[]>(props.initialFormats.length ? props.initialFormats : ["alpha_png"]);
  const [background, setBackground] = createSignal(normaliseHexColor(props.initialBackground) ?? "00ff00");

  const nameOf = (oid: number) => props.objects.find((o) => o.id === oid)?.name ?? `object ${oid}`;
  const deleted = (oid: number) => props.deleting?.has(oid) ?? false;
  /** Chosen objects being deleted: left out of the job, and said so. */
  const beingDeleted = createMemo(() => objectIds().filter(deleted));
  const draft = (): JobDraft => ({
    start: parseFrame(start()),
    end: parseFrame(end()),
    objectIds: objectIds().filter((oid) => !deleted(oid)),
    formats: formats(),
    background: background(),
  });
  const reason = createMemo(() => {
    const gone = beingDeleted();
    if (gone.length && !draft().objectIds.length) return `${gone.map((oid) => `"${nameOf(oid)}"`).join(", ")} ${gone.length === 1 ? "is" : "are"} being deleted: choose another object.`;
    return validateJobDraft(draft(), props.frameCount, props.points);
  });
  /** Chosen objects without a point in the range: the server leaves them out of the job. */
  const outOfRange = createMemo(() => {
    const d = draft();
    return d.objectIds.filter((oid) => !framesWithPoints(props.points, [oid]).some((f) => f >= d.start && f <= d.end));
  });

  const toggle = <T,>(list: T[], v: T, on: boolean) => (on ? [...list.filter((x) => x !== v), v] : list.filter((x) => x !== v));

  const usePrompted = () => {
    const r = promptedRange(props.points, objectIds().length ? objectIds() : undefined);
    if (r) {
      setStart(String(r.start));
      setEnd(String(r.end));
    }
  };

  const count = () => {
    const d = draft();
    return Number.isInteger(d.start) && Number.isInteger(d.end) && d.end >= d.start ? d.end - d.start + 1 : 0;
  };

  return (
    <form
      class="matting-form"
      data-testid="matting-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!reason() && !props.busy) props.onRun({ ...draft(), objectIds: draft().objectIds.filter((oid) => !outOfRange().includes(oid)) });
      }}
    >
      <fieldset>
        <legend>Frames</legend>
        <div class="row">
          <FrameField label="Start" testId="matting-start" value={start()} last={props.frameCount - 1} onInput={setStart} />
          <FrameField label="End (inclusive)" testId="matting-end" value={end()} last={props.frameCount - 1} onInput={setEnd} />
          <div class="field field-buttons">
            <Show when={workRange(props.inout ?? NO_INOUT, props.frameCount)}>
              {(r) => (
                <button
                  type="button"
                  class="btn btn-small"
                  data-testid="matting-inout-range"
                  title={`Frames ${r().start}–${r().end}, the In/Out range (I / O in the editor)`}
                  onClick={() => {
                    setStart(String(r().start));
                    setEnd(String(r().end));
                  }}
                >
                  In/Out
                </button>
              )}
            </Show>
            <button type="button" class="btn btn-small" data-testid="matting-prompted-range" onClick={usePrompted}>
              Prompted range
            </button>
            <button
              type="button"
              class="btn btn-small"
              data-testid="matting-whole-video"
              onClick={() => {
                setStart("0");
                setEnd(String(Math.max(0, props.frameCount - 1)));
              }}
            >
              Whole video
            </button>
          </div>
        </div>
        <p class="muted small">
          {count()} frame{count() === 1 ? "" : "s"} · the video has frames 0–{Math.max(0, props.frameCount - 1)}
        </p>
      </fieldset>

      <fieldset>
        <legend>Objects</legend>
        <Show when={props.objects.length === 0}>
          <p class="muted small">No objects yet.</p>
        </Show>
        <div class="checks">
          <For each={props.objects}>
            {(o) => {
              const frames = () => framesWithPoints(props.points, [o.id]);
              return (
                <label class="check">
                  <input
                    type="checkbox"
                    data-testid="matting-object"
                    data-object-id={o.id}
                    checked={objectIds().includes(o.id)}
                    onChange={(e) => setObjectIds((l) => toggle(l, o.id, e.currentTarget.checked))}
                  />
                  <span class="swatch swatch-small" style={{ background: o.color }} />
                  <span>{o.name}</span>
                  <span class="muted small">
                    {frames().length ? `${frames().length} prompted frame${frames().length === 1 ? "" : "s"}` : "no points"}
                  </span>
                  <Show when={deleted(o.id) && objectIds().includes(o.id)}>
                    <span class="warn small" data-testid="matting-object-skipped">
                      not in this job: being deleted
                    </span>
                  </Show>
                  <Show when={frames().length > 0 && outOfRange().includes(o.id)}>
                    <span class="warn small" data-testid="matting-object-skipped">
                      not in this job: no points in range
                    </span>
                  </Show>
                </label>
              );
            }}
          </For>
        </div>
      </fieldset>

      <OutputFields
        formats={formats()}
        background={background()}
        onFormat={(id, on) => setFormats((l) => toggle(l, id, on))}
        onBackground={setBackground}
      />

      <div class="form-footer">
        <div class="form-reason" data-testid="matting-validation" role={reason() ? "alert" : undefined}>
          <Show
            when={reason()}
            fallback={
              <span class="ok">
                Ready: {count()} frame{count() === 1 ? "" : "s"}
                {outOfRange().length ? `; left out (no points in range): ${outOfRange().map(nameOf).join(", ")}` : ""}
                {beingDeleted().length ? `; left out (being deleted): ${beingDeleted().map(nameOf).join(", ")}` : ""}.
              </span>
            }
          >
            <span class="warn">⚠ {reason()}</span>
          </Show>
        </div>
        <div class="modal-actions">
          <button type="button" class="btn" onClick={() => props.onCancel()}>
            Close
          </button>
          <button type="submit" class="btn btn-primary" data-testid="matting-run" disabled={!!reason() || props.busy}>
            {props.busy ? "Starting…" : "Run matting"}
          </button>
        </div>
      </div>
    </form>
  );
}
