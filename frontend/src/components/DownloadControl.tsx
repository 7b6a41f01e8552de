import { For, Show, createEffect, createSignal, onCleanup } from "solid-js";
import { urls, type Job, type MatteObject } from "../api";
import { FEATHER_RANGE, SHIFT_EDGE_RANGE, clampEdge, exportChoice, formatLabels, partOf, saveExportChoice, type ExportChoice } from "../exportChoice";
import { MATTES_CHOICES, OUTPUT_FORMATS, archiveQuery, normaliseHexColor } from "../validation";
import { dialogOpen } from "../focusTrap";
import { isComposing } from "../keyboard";
import { Icon } from "./Icon";
import { onDownloadClick } from "../download";
import type { InOut } from "../editor/inout";

/** An object of a job as its archive names it: as it was called when the job was made, whatever
 * it is called now (or whether it still exists); data made before jobs kept names: as it is now. */
export function jobObjectName(job: Job, oid: number, objects: MatteObject[]): string {
  return job.object_names?.[oid] ?? objects.find((o) => o.id === oid)?.name ?? `object ${oid}`;
}

/** A number of the download settings, taken when committed (Enter, the arrows, leaving the
 * field) rather than at each key, so a half-typed "-" asks the server for nothing; `keep` makes
 * what was typed one the API takes, which the field then shows. */
function NumberField(props: {
  label: string;
  testid: string;
  range: { min: number; max: number };
  step: number;
  value: number;
  hint?: string;
  keep: (typed: number) => number;
  onCommit: (value: number) => void;
}) {
  return (
    <label class="edge-field">
      {props.label}
      <input
        type="number"
        class="input mono edge-input"
        data-testid={props.testid}
        min={props.range.min}
        max={props.range.max}
        step={props.step}
        value={props.value}
        aria-describedby={props.hint}
        onChange={(e) => {
          const kept = props.keep(e.currentTarget.valueAsNumber);
          e.currentTarget.value = String(kept); // the value kept may equal the last: no re-render shows it
          props.onCommit(kept);
        }}
      />
    </label>
  );
}

/** Download of one job: formats, composite colour, edge colour, (several objects) which
 * mattes and the edge adjustment (which the result's view shows too), kept per job: a job
 * shows its own choice or the defaults, never the last one typed for another job. */
export function DownloadControl(props: { job: Job; objects: MatteObject[]; inout?: InOut }) {
  const choice = () => exportChoice(props.job);
  const [open, setOpen] = createSignal(false);
  let root!: HTMLDivElement;
  const update = (change: Partial<ExportChoice>) => saveExportChoice({ ...choice(), ...change }, props.job.id);
  const toggleFormat = (id: string, on: boolean) => {
    const rest = choice().formats.filter((x) => x !== id);
    update({ formats: on ? [...rest, id] : rest.length ? rest : choice().formats });
  };
  // A running, cancelled or failed job's zip holds the frames made so far: the button says so
  // (its row already shows how far the job got).
  const partial = () => props.job.frames_done < props.job.frames_total;
  // The adjustment is out of sight once the menu closes: the button still says the zip has it.
  const edge = () => {
    const { shiftEdge, feather, reduceChatter } = choice();
    const said = [
      reduceChatter ? "chatter reduced" : "",
      shiftEdge ? `edge shifted ${shiftEdge > 0 ? "+" : ""}${shiftEdge} px` : "",
      feather ? `feathered ${feather} px` : "",
    ].filter(Boolean);
    return said.length ? `; ${said.join(", ")}` : "";
  };
  // The part of the job's frames downloaded (all of them unless narrowed), first and last.
  const first = () => choice().part?.start ?? props.job.start;
  const last = () => choice().part?.end ?? props.job.end;
  // A first frame past the last (or a last before the first) takes the other end with it.
  const setPart = (start: number, end: number) => update({ part: partOf({ start, end }, props.job) });
  const frames = () => ({ min: props.job.start, max: props.job.end });
  // The editor's In/Out marks within this result's frames (a lone In runs to its last frame, a
  // lone Out from its first); null when unset or outside them.
  const marked = () => {
    const marks = props.inout;
    if (!marks || (marks.in === null && marks.out === null)) return null;
    const start = Math.max(props.job.start, marks.in ?? props.job.start);
    const end = Math.min(props.job.end, marks.out ?? props.job.end);
    return start <= end ? { start, end } : null;
  };
  // A whole frame of the job's range; nothing typed keeps the frame shown.
  const frameOf = (typed: number, shown: number) => (Number.isFinite(typed) ? Math.min(props.job.end, Math.max(props.job.start, Math.round(typed))) : shown);
  const title = () => {
    const formats = formatLabels(choice().formats).join(", ");
    const part = choice().part;
    if (part) return `ZIP of frames ${part.start}–${part.end}${partial() ? " (those finished so far)" : ""}, with ${formats}${edge()}`;
    return (partial() ? `ZIP of the ${props.job.frames_done} frames finished so far (of ${props.job.frames_total}), with ${formats}` : `ZIP with ${formats}`) + edge();
  };
  // What the settings button shows; its name says what it opens as well (the shown text alone
  // reads as a format, not as a button).
  const shown = () => (choice().formats.length === 1 ? formatLabels(choice().formats)[0].replace(/ sequence$/, "") : `${choice().formats.length} formats`);
  const names = () => props.job.object_ids.map((oid) => jobObjectName(props.job, oid, props.objects));
  // The settings are a disclosure (a button that shows and hides a group of fields, not a
  // menu of commands): they close on a click elsewhere or Escape (on the click, not the
  // press: they sit in the panel's flow, and closing them on the press would move what the
  // click was aimed at).
  const panelId = `download-settings-${props.job.id}`;
  let toggle!: HTMLButtonElement;
  let menu: HTMLDivElement | undefined;
  // Opened under a result low in the side panel, the settings reach past the window's bottom
  // edge: the panel scrolls them into sight (jsdom has no scrolling).
  createEffect(() => {
    if (open()) menu?.scrollIntoView?.({ block: "nearest" });
  });
  const onDown = (e: Event) => {
    if (open() && !root.contains(e.target as Node)) setOpen(false);
  };
  const onKey = (e: KeyboardEvent) => {
    // A modal dialog opened over the panel (M, a confirmation) takes Escape: it closes first.
    if (open() && e.key === "Escape" && !isComposing(e) && !dialogOpen()) {
      e.stopImmediatePropagation();
      // A field inside goes with the panel: the focus goes back to the button, not the page's top.
      const inside = root.contains(document.activeElement);
      setOpen(false);
      if (inside) toggle.focus();
    }
  };
  document.addEventListener("click", onDown);
  window.addEventListener("keydown", onKey, true);
  onCleanup(() => {
    document.removeEventListener("click", onDown);
    window.removeEventListener("keydown", onKey, true);
  });
  return (
    <div class="download" ref={root}>
      <a
        class="btn btn-small btn-primary"
        data-testid="result-download"
        href={urls.archive(props.job.id, archiveQuery(choice().formats, choice().background, choice()))}
        download=""
        onClick={onDownloadClick}
        title={title()}
      >
        <Icon name="download" size={13} /> Download
      </a>
      <button
        ref={toggle}
        class="btn btn-small"
        data-testid="result-formats"
        aria-expanded={open()}
        aria-controls={open() ? panelId : undefined}
        title={`Formats: ${formatLabels(choice().formats).join(", ")}`}
        aria-label={`Download settings: ${shown()}`}
        onClick={() => setOpen(!open())}
      >
        {shown()}{" "}
        <span aria-hidden="true">▾</span>
      </button>
      <Show when={open()}>
        <div ref={menu} class="format-menu" id={panelId} data-testid="format-menu" role="group" aria-label="Download settings">
          <For each={OUTPUT_FORMATS}>
            {(f) => (
              <label class="check" title={f.hint}>
                <input
                  type="checkbox"
                  data-testid="result-format"
                  data-format={f.id}
                  checked={choice().formats.includes(f.id)}
                  onChange={(e) => toggleFormat(f.id, e.currentTarget.checked)}
                />
                {f.label}
              </label>
            )}
          </For>
          <label class="check" title="The colour behind the object in the composite video and in the green-screen view">
            <input
              type="color"
              class="color-input color-input-small"
              data-testid="result-background"
              value={`#${choice().background}`}
              onInput={(e) => {
                const bg = normaliseHexColor(e.currentTarget.value);
                if (bg) update({ background: bg });
              }}
            />
            Composite colour
          </label>
          <label class="check" title="Colour formats pair the matte with the frame's own colour instead of the estimated foreground (soft edges then keep some of the old background)">
            <input
              type="checkbox"
              data-testid="raw-colour"
              checked={choice().rawColour === true}
              onChange={(e) => update({ rawColour: e.currentTarget.checked })}
            />
            Raw edge colour
          </label>
          <Show when={props.job.object_ids.length > 1}>
            <fieldset class="mattes-choice" data-testid="mattes-choice">
              <legend>Mattes of {names().join(", ")}</legend>
              <For each={MATTES_CHOICES}>
                {(m) => (
                  <label class="check">
                    <input
                      type="radio"
                      name={`mattes-${props.job.id}`}
                      data-testid="mattes-option"
                      value={m.id}
                      checked={(choice().mattes ?? "objects") === m.id}
                      onChange={() => update({ mattes: m.id })}
                    />
                    {m.label}
                  </label>
                )}
              </For>
            </fieldset>
          </Show>
          <fieldset class="edge-choice" data-testid="part-choice">
            <legend>Frames</legend>
            <div class="part-fields">
              <NumberField label="First" testid="part-start" range={frames()} step={1} value={first()} keep={(t) => frameOf(t, first())} onCommit={(f) => setPart(f, Math.max(f, last()))} />
              <NumberField label="Last" testid="part-end" range={frames()} step={1} value={last()} keep={(t) => frameOf(t, last())} onCommit={(f) => setPart(Math.min(f, first()), f)} />
              <button
                type="button"
                class="btn btn-small"
                data-testid="part-inout"
                disabled={!marked()}
                title={props.inout && (props.inout.in !== null || props.inout.out !== null) ? (marked() ? "The frames between the editor's In and Out marks (I / O)" : "The In/Out marks lie outside this result's frames") : "Set In and Out in the editor (I / O) to download that part"}
                onClick={() => {
                  const m = marked();
                  if (m) setPart(m.start, m.end);
                }}
              >
                In/Out
              </button>
            </div>
          </fieldset>
          <fieldset class="edge-choice" data-testid="edge-choice">
            <legend>Edge</legend>
            <div class="edge-fields">
              <NumberField
                label="Shift edge (px)"
                testid="shift-edge"
                range={SHIFT_EDGE_RANGE}
                step={0.5}
                value={choice().shiftEdge}
                hint={`edge-hint-${props.job.id}`}
                keep={(t) => clampEdge(t, SHIFT_EDGE_RANGE)}
                onCommit={(shiftEdge) => update({ shiftEdge })}
              />
              <NumberField
                label="Feather (px)"
                testid="feather"
                range={FEATHER_RANGE}
                step={0.5}
                value={choice().feather}
                hint={`edge-hint-${props.job.id}`}
                keep={(t) => clampEdge(t, FEATHER_RANGE)}
                onCommit={(feather) => update({ feather })}
              />
            </div>
            <label class="check" title="Where the picture is still, each pixel of a frame's matte becomes the median of its values on that frame and the frames before and after it: a one-frame flicker goes; where the picture moves, the matte is left as it is">
              <input
                type="checkbox"
                data-testid="reduce-chatter"
                checked={choice().reduceChatter}
                aria-describedby={`edge-hint-${props.job.id}`}
                onChange={(e) => update({ reduceChatter: e.currentTarget.checked })}
              />
              Reduce chatter (median of 3 frames)
            </label>
            <p class="edge-hint muted" id={`edge-hint-${props.job.id}`}>
              Chatter is reduced first; positive shift grows the matte, negative chokes it; feather softens it. The view shows it as downloaded.
            </p>
          </fieldset>
        </div>
      </Show>
    </div>
  );
}
