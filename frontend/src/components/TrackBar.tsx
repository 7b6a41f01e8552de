import { Show } from "solid-js";
import type { MatteObject } from "../api";
import type { FrameRange } from "../editor/inout";
import { storedErrorText } from "../editor/objects";
import { trackProgressText, type Track } from "../track";

export interface TrackBarProps {
  track: Track | null;
  /** The project's objects: a track's error names them as the list does. */
  objects: readonly Pick<MatteObject, "id" | "name">[];
  /** Whether any frame holds points (a track needs some). */
  canTrack: boolean;
  /** In..Out, which the track keeps to; null or absent: the whole clip. */
  range?: FrameRange | null;
  /** A start is on its way: a second press would ask for a second run. */
  starting: boolean;
  onTrack: () => void;
  onCancel: () => void;
}

/** What Track will run over, said on its button. */
export function trackTitle(range: FrameRange | null): string {
  const over = range ? `frames ${range.start}–${range.end} (In/Out)` : "the whole clip";
  return `Track the points over ${over} with SAM2, without matting`;
}

/** The Track action: SAM2 alone over the clip, its progress with cancel, and a stale note. */
export function TrackBar(props: TrackBarProps) {
  const running = () => props.track?.status === "running";
  const named = (t: Track): Track => (t.error ? { ...t, error: storedErrorText(t.error, props.objects) } : t);
  const percent = () => {
    const t = props.track;
    return t && t.frames_total > 0 ? Math.round((t.frames_done / t.frames_total) * 100) : 0;
  };
  return (
    <div class="track-bar" data-testid="track-bar" data-status={props.track?.status ?? "none"}>
      <Show
        when={running()}
        fallback={
          <button
            class="btn btn-small"
            data-testid="track-start"
            disabled={!props.canTrack || props.starting}
            aria-busy={props.starting}
            title={props.canTrack ? trackTitle(props.range ?? null) : "Click on the object first"}
            onClick={() => props.onTrack()}
          >
            Track
          </button>
        }
      >
        <div class="bar track-progress" role="progressbar" aria-label="Tracking progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent()}>
          <div class="bar-fill" style={{ width: `${percent()}%` }} />
        </div>
        <button class="btn btn-small" data-testid="track-cancel" onClick={() => props.onCancel()}>
          Cancel
        </button>
      </Show>
      <Show when={props.track}>
        {(t) => (
          <span class="muted track-status" data-testid="track-status">
            {trackProgressText(named(t()))}
          </span>
        )}
      </Show>
      <Show when={props.track?.stale && !running()}>
        <span class="track-stale" data-testid="track-stale" title="The points, or the server's SAM2 model, changed since the track was made: Track again to update it">
          track is stale
        </span>
      </Show>
    </div>
  );
}
