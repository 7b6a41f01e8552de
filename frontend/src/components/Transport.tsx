import { createEffect, createSignal, For, on, Show } from "solid-js";
import { NO_INOUT, workRange, type InOut } from "../editor/inout";
import { formatTimecode, parseGoto, sourceTimecode } from "../timecode";
import { isComposing } from "../keyboard";
import { Icon } from "./Icon";

export interface TransportProps {
  frame: number;
  frameCount: number;
  fps: number;
  /** The source's start timecode (VideoInfo.timecode): the readout then shows the frame's
   * own, as the exports stamp it and the user's editing software shows the source. */
  timecode?: string | null;
  /** An image sequence's first image's number (VideoInfo.first_number): the readout then shows
   * each frame's own, which its per-frame exports are named by. 0 or absent: a video's. */
  firstNumber?: number;
  playing: boolean;
  markers: { frame: number; color: string }[];
  range: { start: number; end: number } | null;
  /** The In/Out work range (I, O), drawn on the bar and read out by the frame number. */
  inout?: InOut;
  /** The readout's text ("In 12 – Out 80 (69 frames)"); null when neither is set. */
  inoutText?: string | null;
  /** What the live region says after In or Out changed. */
  inoutSaid?: string;
  onClearInOut?: () => void;
  /** Frames to check (a lost object, a jump in a track) and why, drawn under the bar. */
  flags?: { frame: number; why: string }[];
  onSeek: (frame: number) => void;
  onStep: (delta: number) => void;
  onPlay: () => void;
  /** Changes each time a key asks for the go-to field (G). */
  gotoAsked?: number;
}

const GOTO_HELP =
  "Go to (G): a frame number (120), a timecode as the readout shows it (hh:mm:ss:ff; its fields fill from the right: " +
  "1:00 is 1 second, 1:02:03 is 1 minute 2 seconds 3 frames), frames from here (+10, -10) or, in an image sequence, " +
  "an image's own number (#1021). Enter goes, Escape cancels.";

export function Transport(props: TransportProps) {
  const last = () => Math.max(0, props.frameCount - 1);
  const source = () => (props.timecode ? sourceTimecode(props.timecode, props.frame, props.fps) : null);
  const pos = (f: number) => (last() > 0 ? (f / last()) * 100 : 0);
  // The flags are not focusable: the slider says what to check on the frame it stands on.
  const valueText = () => {
    const flag = props.flags?.find((f) => f.frame === props.frame);
    return flag ? `Frame ${props.frame} — check ${flag.why}` : `Frame ${props.frame}`;
  };
  // The go-to field, over the frame number while open: its text (null: closed) and why it does not go.
  const [draft, setDraft] = createSignal<string | null>(null);
  const [invalid, setInvalid] = createSignal("");
  let back: Element | null = null; // the focus before the field opened: it goes back there
  let seek!: HTMLInputElement;
  const openGoto = () => {
    if (draft() === null) back = document.activeElement;
    setInvalid("");
    setDraft(String(props.frame));
  };
  const closeGoto = (refocus: boolean) => {
    if (draft() === null) return;
    setDraft(null);
    setInvalid("");
    if (refocus && back instanceof HTMLElement && back.isConnected) back.focus();
  };
  const go = () => {
    const to = parseGoto(draft() ?? "", { frame: props.frame, frameCount: props.frameCount, fps: props.fps, timecode: props.timecode, firstNumber: props.firstNumber });
    if ("error" in to) return setInvalid(to.error);
    props.onSeek(to.frame);
    closeGoto(true);
  };
  createEffect(on(() => props.gotoAsked, openGoto, { defer: true }));
  /** In..Out on the bar, with which ends are set (a lone In runs to the end, a lone Out from the start). */
  const band = () => {
    const r = props.inout ?? NO_INOUT;
    const span = workRange(r, last() + 1);
    return span && { ...span, in: r.in, out: r.out };
  };
  return (
    <div class="transport" data-testid="transport">
      <div class="transport-buttons">
        <button class="icon-btn" title="First frame (Home)" aria-label="First frame" data-testid="seek-first" onClick={() => props.onSeek(0)}>
          <Icon name="first" />
        </button>
        <button class="icon-btn" title="10 frames back (Shift+←)" aria-label="10 frames back" data-testid="seek-back-10" onClick={() => props.onStep(-10)}>
          <Icon name="back10" />
        </button>
        <button class="icon-btn" title="Previous frame (←)" aria-label="Previous frame" data-testid="seek-prev" onClick={() => props.onStep(-1)}>
          <Icon name="prev" />
        </button>
        <button
          class="icon-btn play"
          title={props.playing ? "Pause (Space)" : "Play (Space)"}
          aria-label={props.playing ? "Pause" : "Play"}
          data-testid="play"
          data-playing={props.playing ? "true" : "false"}
          onClick={() => props.onPlay()}
        >
          <Icon name={props.playing ? "pause" : "play"} />
        </button>
        <button class="icon-btn" title="Next frame (→)" aria-label="Next frame" data-testid="seek-next" onClick={() => props.onStep(1)}>
          <Icon name="next" />
        </button>
        <button class="icon-btn" title="10 frames forward (Shift+→)" aria-label="10 frames forward" data-testid="seek-forward-10" onClick={() => props.onStep(10)}>
          <Icon name="forward10" />
        </button>
        <button class="icon-btn" title="Last frame (End)" aria-label="Last frame" data-testid="seek-last" onClick={() => props.onSeek(last())}>
          <Icon name="last" />
        </button>
      </div>
      <div class="seek-wrap">
        <div class="seek-track" aria-hidden="true">
          <Show when={band()}>
            {(b) => (
              <div
                class="seek-inout"
                classList={{ "has-in": b().in !== null, "has-out": b().out !== null }}
                data-testid="seek-inout"
                data-start={b().start}
                data-end={b().end}
                style={{ left: `${pos(b().start)}%`, width: `${Math.max(0.4, pos(b().end) - pos(b().start))}%` }}
              />
            )}
          </Show>
          <Show when={props.range}>
            {(r) => (
              <div
                class="seek-range"
                data-testid="seek-range"
                style={{ left: `${pos(r().start)}%`, width: `${Math.max(0.4, pos(r().end) - pos(r().start))}%` }}
              />
            )}
          </Show>
          <For each={props.markers}>
            {(m) => (
              <div
                class="seek-marker"
                data-testid="seek-marker"
                data-frame={m.frame}
                style={{ left: `${pos(m.frame)}%`, background: m.color }}
                title={`Frame ${m.frame} has points`}
              />
            )}
          </For>
        </div>
        <input
          ref={seek}
          type="range"
          class="seek"
          data-testid="seek"
          aria-label="Frame"
          aria-valuetext={valueText()}
          min={0}
          max={last()}
          step={1}
          value={props.frame}
          onInput={(e) => props.onSeek(Number(e.currentTarget.value))}
        />
        {/* Over the slider, so that the pointer finds them: their reason shows on hover. */}
        <div class="seek-track" aria-hidden="true">
          <For each={props.flags ?? []}>
            {(f) => (
              <div
                class="seek-flag"
                data-testid="seek-flag"
                data-frame={f.frame}
                style={{ left: `${pos(f.frame)}%` }}
                title={`Check frame ${f.frame}: ${f.why}`}
                onClick={() => props.onSeek(f.frame)}
              />
            )}
          </For>
        </div>
      </div>
      <div class="frame-readout">
        <span class="muted">frame</span>
        <button
          class="mono strong frame-goto"
          data-testid="frame-number"
          title={GOTO_HELP}
          aria-label={`Frame ${props.frame}: go to a frame or timecode`}
          hidden={draft() !== null}
          onClick={openGoto}
        >
          {props.frame}
        </button>
        <Show when={draft() !== null}>
          <input
            class="mono strong goto-input"
            data-testid="goto-input"
            aria-label="Go to frame, timecode or +/- frames"
            title={GOTO_HELP}
            aria-invalid={invalid() ? "true" : "false"}
            aria-describedby={invalid() ? "goto-invalid" : undefined}
            spellcheck={false}
            autocomplete="off"
            value={draft() ?? ""}
            ref={(el) => queueMicrotask(() => (el.focus(), el.select()))}
            onInput={(e) => {
              setDraft(e.currentTarget.value);
              setInvalid("");
            }}
            onKeyDown={(e) => {
              if (isComposing(e)) return; // Enter or Escape that ends an input method's composition
              if (e.key === "Enter") go();
              else if (e.key === "Escape") closeGoto(true);
              else return;
              e.preventDefault();
            }}
            onBlur={() => closeGoto(false)}
          />
          <Show when={invalid()}>
            <span class="goto-invalid" id="goto-invalid" data-testid="goto-invalid" role="alert">
              {invalid()}
            </span>
          </Show>
        </Show>
        <span class="muted mono">/ {last()}</span>
        <Show when={props.firstNumber}>
          {(first) => (
            <span
              class="mono muted"
              data-testid="image-number"
              title={`The image's own number in the sequence; its exports are named ${String(first() + props.frame).padStart(6, "0")}`}
            >
              #{first() + props.frame}
            </span>
          )}
        </Show>
        <span class="mono timecode" data-testid="timecode" title={source() ? "source timecode (hours:minutes:seconds:frames)" : "hours:minutes:seconds:frames"}>
          {source() ?? formatTimecode(props.frame, props.fps)}
        </span>
        <span class="visually-hidden" role="status" aria-live="polite" data-testid="inout-announcement">
          {props.inoutSaid ?? ""}
        </span>
      </div>
      <Show when={props.inoutText}>
        {(text) => (
          <span class="inout-readout" data-testid="inout-readout" title="In/Out: Track, Matting and playback keep to these frames (I / O set, Shift+I / Shift+O go, Alt+X clears)">
            <span class="mono">{text()}</span>
            <button
              class="icon-btn inout-clear"
              data-testid="inout-clear"
              aria-label="Clear In/Out"
              title="Clear In/Out (Alt+X)"
              onClick={(e) => {
                const focused = document.activeElement === e.currentTarget;
                props.onClearInOut?.();
                // The button goes with the readout: the keyboard goes on from the bar it cleared.
                if (focused) seek.focus();
              }}
            >
              ×
            </button>
          </span>
        )}
      </Show>
    </div>
  );
}
