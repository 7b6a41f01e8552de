import { Show } from "solid-js";
import type { MatteObject } from "../api";
import { Icon } from "../components/Icon";
import { TrackBar } from "../components/TrackBar";
import type { Track } from "../track";
import type { FrameRange } from "./inout";
import type { ObjectWait } from "./saving";

export interface ToolbarProps {
  selected: MatteObject | null;
  /** The project's objects (a track's error names them). */
  objects: MatteObject[];
  track: Track | null;
  canTrack: boolean;
  /** In..Out, which Track keeps to; null: the whole clip. */
  trackRange: FrameRange | null;
  /** A track start is on its way. */
  trackStarting: boolean;
  canUndo: boolean;
  canRedo: boolean;
  canClear: boolean;
  maskVisible: boolean;
  /** The server does not answer: clicks are kept and saved when it is back. */
  offline: boolean;
  unsaved: number;
  /** The server's disk was full at the last save: the unsaved points wait for a Retry (or the
   * next click) once room is made. */
  diskFull: boolean;
  /** The server answers but is still making a new object for a held click ("making": asked
   * again on its own), or has not finished it after a minute of asking ("stalled": Retry). */
  objectWait: ObjectWait;
  onRetrySaves: () => void;
  onTrack: () => void;
  onCancelTrack: () => void;
  onUndo: () => void;
  onRedo: () => void;
  onClear: () => void;
  onToggleMask: () => void;
  onPreview: () => void;
  onMatting: () => void;
  onHelp: () => void;
}

/** What the "Saving…" note's tooltip says the unsaved clicks wait for. */
function savingTitle(offline: boolean, objectWait: ObjectWait): string {
  if (offline) return "The server does not answer. New points are kept here and saved when it is back.";
  if (objectWait === "making") return "The server is still making the new object for a click: it is asked again every few seconds. The click is kept here meanwhile.";
  return "New points are on their way to the server.";
}

/** "1 click", "3 clicks". */
function clicks(n: number): string {
  return `${n} click${n === 1 ? "" : "s"}`;
}

/** Retry's accessible name says what it retries: several notes can offer one, and a screen
 * reader that reaches the button alone would hear a bare "Retry". It starts with the visible
 * word, so a voice command "click Retry" still finds it. */
function retryName(diskWait: boolean, unsaved: number): string {
  if (diskWait) return `Retry saving ${clicks(unsaved)}`;
  return unsaved > 0 ? `Retry making the new object for ${clicks(unsaved)}` : "Retry making the new object";
}

export function Toolbar(props: ToolbarProps) {
  /** The held clicks wait for a Retry: the disk is full, or the new object never finished. A
   * stalled object is said with no click waiting too: one undone while it was being made is
   * still made on the server, and would otherwise be missing from the list until a reload. */
  const diskWait = () => !props.offline && props.unsaved > 0 && props.diskFull;
  const stalled = () => !props.offline && !diskWait() && props.objectWait === "stalled";
  const waitsForRetry = () => diskWait() || stalled();
  return (
    <div class="toolbar">
      <div class="tool-hint">
        {/* One live region, in the page before any note: a screen reader hears a note come, go or
            change (a region that comes with its text is often not heard). */}
        <span role="status" aria-live="polite" data-testid="save-status">
          <Show when={props.offline || (props.unsaved > 0 && !waitsForRetry())}>
            <span
              class="connection-lost"
              data-testid="connection-lost"
              data-offline={props.offline ? "true" : "false"}
              title={savingTitle(props.offline, props.objectWait)}
            >
              {props.offline ? "Connection lost: reconnecting…" : "Saving…"}
              {props.unsaved > 0 ? ` ${props.unsaved} unsaved` : ""}
            </span>{" "}
          </Show>
          <Show when={diskWait()}>
            <span class="connection-lost" data-testid="disk-full" title="The server's disk is full. New points are kept here; delete old projects or jobs to make room, then Retry.">
              Server disk full: {props.unsaved} unsaved{" "}
              <button class="btn btn-small" data-testid="retry-saves" aria-label={retryName(diskWait(), props.unsaved)} onClick={() => props.onRetrySaves()}>
                Retry
              </button>
            </span>{" "}
          </Show>
          <Show when={stalled()}>
            <span
              class="connection-lost"
              data-testid="object-stalled"
              title={
                props.unsaved > 0
                  ? "The server has not finished making the new object for a click after a minute of asking. The click is kept here; Retry asks again."
                  : "The server has not finished making the object asked for a click you undid, after a minute of asking: it shows in the list once made. Retry asks again."
              }
            >
              Server still making an object{props.unsaved > 0 ? `: ${props.unsaved} unsaved` : ""}{" "}
              <button class="btn btn-small" data-testid="retry-saves" aria-label={retryName(diskWait(), props.unsaved)} onClick={() => props.onRetrySaves()}>
                Retry
              </button>
            </span>{" "}
          </Show>
        </span>
        <Show when={props.selected} fallback={<span class="muted">Click on the video to add a point to a new object</span>}>
          {(o) => (
            <span data-testid="active-object" title="Left click adds a positive point, right click or Alt+click a negative one; click a point to remove it">
              <span class="swatch swatch-small" style={{ background: o().color }} /> <strong>{o().name}</strong>
              <span class="muted">
                {" "}· click <span class="pos">+</span> · right-click <span class="neg">−</span> · click a point to remove it · <kbd>?</kbd> shortcuts
              </span>
            </span>
          )}
        </Show>
      </div>
      <div class="tool-buttons">
        <TrackBar objects={props.objects} track={props.track} canTrack={props.canTrack} range={props.trackRange} starting={props.trackStarting} onTrack={() => props.onTrack()} onCancel={() => props.onCancelTrack()} />
        <button class="btn btn-small" data-testid="undo" title="Undo (Ctrl+Z)" disabled={!props.canUndo} onClick={() => props.onUndo()}>
          <Icon name="undo" size={13} /> Undo
        </button>
        <button class="btn btn-small" data-testid="redo" title="Redo (Ctrl+Shift+Z)" disabled={!props.canRedo} onClick={() => props.onRedo()}>
          <Icon name="redo" size={13} /> Redo
        </button>
        <button class="btn btn-small" data-testid="clear-frame" title="Remove every point of this frame (Delete)" disabled={!props.canClear} onClick={() => props.onClear()}>
          Clear frame
        </button>
        <button
          class={`btn btn-small ${props.maskVisible ? "" : "btn-on"}`}
          data-testid="preview-toggle"
          title="Show or hide the mask preview (V)"
          onClick={() => props.onToggleMask()}
        >
          {props.maskVisible ? "Hide mask" : "Show mask"}
        </button>
        <button class="btn btn-small" data-testid="preview-refresh" title="Preview this frame (P)" onClick={() => props.onPreview()}>
          Preview
        </button>
        <button class="btn btn-small btn-primary" data-testid="matting-open" title="Matting (M)" onClick={() => props.onMatting()}>
          Matting…
        </button>
        <button class="icon-btn" title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts" data-testid="help-open" onClick={() => props.onHelp()}>
          <Icon name="help" />
        </button>
      </div>
    </div>
  );
}
