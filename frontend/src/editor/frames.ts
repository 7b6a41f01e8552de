// The picture under the points: the current frame at the size the stage shows it, and a
// result's matte for it. Only the newest request counts: moving on aborts the superseded one.
import { createEffect, createMemo, createSignal, on, onCleanup, type Accessor } from "solid-js";
import type { Job } from "../api";
import { NO_EDGE, type EdgeAdjust } from "../exportChoice";
import { frameMaxSide, type Picture, type Size } from "../geometry";
import { isAbort, type ImageCache } from "../images";
import { LatestTracker } from "../latest";

export interface FrameDeps {
  /** Stored size and pixel aspect (frames are asked for in stored pixels) and length. */
  video: Accessor<Picture & { frame_count: number }>;
  frame: Accessor<number>;
  stageSize: Accessor<Size>;
  /** The stage's zoom (1: fitted): a zoomed view asks for sharper frames. */
  zoom?: Accessor<number>;
  playing: Accessor<boolean>;
  /** Whether the server answers: a frame that failed while it was away loads when it is back. */
  online?: Accessor<boolean>;
  images: ImageCache;
  /** GET one frame, scaled so its long side is `maxSide` (0: full size). */
  fetchFrame: (index: number, maxSide: number, signal: AbortSignal) => Promise<Blob>;
  report: (error: unknown, title: string) => void;
}

/** A decoded frame and the index of the frame it is: the newest one loaded may be another
 * frame than the one the editor is on (that one is still loading, or could not be loaded). */
export interface FramePicture {
  index: number;
  image: HTMLImageElement;
}

export interface FrameImage {
  picture: Accessor<FramePicture | null>;
  loading: Accessor<boolean>;
  /** The long side to ask the server for (0: full size, -1: stage not measured yet). */
  maxSide: Accessor<number>;
  /** Load a frame into the cache (playback waits on it). */
  load: (index: number, signal?: AbortSignal) => Promise<HTMLImageElement>;
}

export function createFrameImage(deps: FrameDeps): FrameImage {
  const [picture, setPicture] = createSignal<FramePicture | null>(null);
  const [loading, setLoading] = createSignal(false);
  const tracker = new LatestTracker<"frame" | "next">();
  onCleanup(() => tracker.cancel());

  const maxSide = createMemo(() => {
    const s = deps.stageSize();
    if (s.width <= 0 || s.height <= 0) return -1;
    return frameMaxSide(s, deps.video(), window.devicePixelRatio || 1, deps.zoom?.() ?? 1);
  });

  const load = (i: number, signal?: AbortSignal) => {
    const ms = Math.max(0, maxSide());
    return deps.images.load(`f:${i}:${ms}`, (s) => deps.fetchFrame(i, ms, s), signal);
  };

  let lastError = "";
  createEffect(
    on([deps.frame, maxSide, deps.online ?? (() => true)], ([i, ms]) => {
      if (ms < 0) return;
      const hit = deps.images.get(`f:${i}:${ms}`);
      if (hit) {
        tracker.cancel("frame");
        tracker.cancel("next");
        setPicture({ index: i, image: hit });
        setLoading(false);
        return;
      }
      if (deps.online && !deps.online()) {
        // Asked again when the server is back; until then the stage says this frame is missing.
        tracker.cancel("frame");
        setLoading(false);
        return;
      }
      const { token, signal } = tracker.begin("frame");
      setLoading(true);
      const loading = load(i, signal);
      tracker.cancel("next"); // after joining it, when the next frame is this one
      loading
        .then((img) => {
          if (!tracker.isLatest("frame", token)) return;
          setPicture({ index: i, image: img });
          lastError = "";
          // The next frame is the likeliest request; a step elsewhere aborts it.
          if (!deps.playing() && i + 1 < deps.video().frame_count) void load(i + 1, tracker.begin("next").signal).catch(() => undefined);
        })
        .catch((e) => {
          if (isAbort(e) || !tracker.isLatest("frame", token)) return;
          const msg = (e as Error)?.message ?? String(e);
          if (msg !== lastError) deps.report(e, `Could not load frame ${i}`);
          lastError = msg;
        })
        .finally(() => {
          if (!tracker.isLatest("frame", token)) return;
          setLoading(false);
          tracker.end("frame", token);
        });
    }),
  );
  return { picture, loading, maxSide, load };
}

export interface MatteDeps {
  /** The result being viewed, when a view needs its matte. */
  job: Accessor<Job | undefined>;
  frame: Accessor<number>;
  maxSide: Accessor<number>;
  online?: Accessor<boolean>;
  images: ImageCache;
  /** The edge adjustment the result's export has (none when not given): shown as downloaded. */
  edge?: Accessor<EdgeAdjust>;
  fetchMatte: (jobId: string, index: number, maxSide: number, edge: EdgeAdjust, signal: AbortSignal) => Promise<Blob>;
}

export interface MatteImage {
  image: Accessor<HTMLImageElement | null>;
  /** Why there is no matte to show (outside the result, not matted). */
  note: Accessor<string | null>;
  load: (jobId: string, index: number, signal?: AbortSignal) => Promise<HTMLImageElement>;
}

export function createMatteImage(deps: MatteDeps): MatteImage {
  const [image, setImage] = createSignal<HTMLImageElement | null>(null);
  const [note, setNote] = createSignal<string | null>(null);
  const tracker = new LatestTracker<"alpha">();
  onCleanup(() => tracker.cancel());

  const edge = () => deps.edge?.() ?? NO_EDGE;
  let asking = ""; // the key of the last matte asked for
  const key = (jid: string, i: number, ms: number, e: EdgeAdjust) => `a:${jid}:${i}:${ms}:${e.shiftEdge}:${e.feather}:${e.reduceChatter}`;
  const load = (jid: string, i: number, signal?: AbortSignal) => {
    const ms = Math.max(0, deps.maxSide());
    const e = edge();
    return deps.images.load(key(jid, i, ms, e), (s) => deps.fetchMatte(jid, i, ms, e, s), signal);
  };

  createEffect(() => {
    deps.online?.(); // back online: load again what failed meanwhile
    const job = deps.job();
    const i = deps.frame();
    const ms = Math.max(0, deps.maxSide());
    if (!job) {
      tracker.cancel();
      setImage(null);
      setNote(null);
      return;
    }
    if (i < job.start || i > job.end) {
      tracker.cancel();
      setImage(null);
      setNote(`Outside the result: it covers frames ${job.start}–${job.end}`);
      return;
    }
    const wanted = key(job.id, i, ms, edge());
    const hit = deps.images.get(wanted);
    if (hit) {
      tracker.cancel();
      setImage(hit);
      setNote(null);
      return;
    }
    if (deps.online && !deps.online()) return; // asked again when the server is back
    // A running job comes anew with each frame it makes: the matte already on its way is the
    // one wanted, and asking again would cut it off (at every event, so it might never come).
    // One that failed (not matted yet) is asked again then.
    if (asking === wanted && tracker.pending("alpha")) return;
    asking = wanted;
    const { token, signal } = tracker.begin("alpha");
    load(job.id, i, signal)
      .then((img) => {
        if (!tracker.isLatest("alpha", token)) return;
        setImage(img);
        setNote(null);
      })
      .catch((e) => {
        if (isAbort(e) || !tracker.isLatest("alpha", token)) return;
        setImage(null);
        setNote(`No matte for frame ${i}: ${(e as Error)?.message ?? String(e)}`);
      })
      .finally(() => tracker.end("alpha", token));
  });
  return { image, note, load };
}
