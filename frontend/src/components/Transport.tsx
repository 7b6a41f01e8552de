import { For, Show } from "solid-js";
import { formatTimecode, sourceTimecode } from "../timecode";
import { Icon } from "./Icon";

export interface TransportProps {
  frame: number;
  frameCount: number;
  fps: number;
  /** The source's start timecode (VideoInfo.timecode): the readout then shows the frame's
   * own, as the exports stamp it and the user's editing software shows the source. */
  timecode?: string | null;
  playing: boolean;
  markers: { frame: number; color: string }[];
  range: { start: number; end: number } | null;
  /** Frames to check (a lost object, a jump in a track) and why, drawn under the bar. */
  flags?: { frame: number; why: string }[];
  onSeek: (frame: number) => void;
  onStep: (delta: number) => void;
  onPlay: () => void;
}

export function Transport(props: TransportProps) {
  const last = () => Math.max(0, props.frameCount - 1);
  const source = () => (props.timecode ? sourceTimecode(props.timecode, props.frame, props.fps) : null);
  const pos = (f: number) => (last() > 0 ? (f / last()) * 100 : 0);
  // The flags are not focusable: the slider says what to check on the frame it stands on.
  const valueText = () => {
    const flag = props.flags?.find((f) => f.frame === props.frame);
    return flag ? `Frame ${props.frame} — check ${flag.why}` : `Frame ${props.frame}`;
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
        <span class="mono strong" data-testid="frame-number">
          {props.frame}
        </span>
        <span class="muted mono">/ {last()}</span>
        <span class="mono timecode" data-testid="timecode" title={source() ? "source timecode (hours:minutes:seconds:frames)" : "hours:minutes:seconds:frames"}>
          {source() ?? formatTimecode(props.frame, props.fps)}
        </span>
      </div>
    </div>
  );
}
