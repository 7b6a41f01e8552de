// Playing frames at the video's rate: each step waits until the next frame (and its matte,
// when a result is shown) is loaded, so playback never shows a blank frame.
import { createSignal, onCleanup, type Accessor } from "solid-js";
import { ApiError } from "../api";

export interface PlaybackDeps {
  frame: Accessor<number>;
  setFrame: (frame: number) => void;
  /** The frames to loop over. */
  range: () => { start: number; end: number };
  fps: () => number;
  /** Load what frame `index` shows; a rejection stops playback. */
  prepare: (index: number) => Promise<unknown>;
  onError: (error: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface Playback {
  playing: Accessor<boolean>;
  toggle: () => void;
  stop: () => void;
}

/** The frame after `frame` in a loop over `range`. */
export function nextFrame(frame: number, range: { start: number; end: number }): number {
  const next = frame + 1;
  return next > range.end || next < range.start ? range.start : next;
}

/** What one step waits on: the frame, and the shown result's matte of it (null: the result
 * does not cover it). A matte the job has not made (404: a running job not there yet, or one
 * cancelled, interrupted or failed partway) does not stop playback, as a partial render plays
 * in an editing suite: the frame plays without it and the stage's note says why. A frame that
 * cannot be had, or a matte the server failed to make, still stops it. */
export async function prepareStep(frame: Promise<unknown>, matte: Promise<unknown> | null): Promise<void> {
  const notMatted = (e: unknown) => {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  };
  await Promise.all([frame, matte?.catch(notMatted)]);
}

export function createPlayback(deps: PlaybackDeps): Playback {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? (() => performance.now());
  const [playing, setPlaying] = createSignal(false);
  let run = 0; // a loop stops when a newer one started (pause + play while it waited)

  const loop = async (id: number) => {
    while (playing() && run === id) {
      const t0 = now();
      const from = deps.frame();
      const next = nextFrame(from, deps.range());
      try {
        await deps.prepare(next);
      } catch (e) {
        if (run !== id) break;
        deps.onError(e);
        setPlaying(false);
        break;
      }
      if (!playing() || run !== id) break;
      // The user moved (seek bar, End…) while `next` loaded: their frame stands for this step
      // and playback goes on from it, instead of jumping back.
      if (deps.frame() === from) deps.setFrame(next);
      const wait = 1000 / deps.fps() - (now() - t0);
      if (wait > 0) await sleep(wait);
    }
  };

  const stop = () => {
    setPlaying(false);
    run++;
  };
  onCleanup(stop);

  return {
    playing,
    stop,
    toggle: () => {
      if (playing()) return stop();
      const r = deps.range();
      if (deps.frame() < r.start || deps.frame() >= r.end) deps.setFrame(r.start);
      setPlaying(true);
      void loop(++run);
    },
  };
}
