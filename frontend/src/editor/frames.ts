// The picture under the points: the current frame at the size the stage shows it, and a
// result's matte for it. Only the newest request counts: moving on aborts the superseded one.
import { batch, createEffect, createMemo, createSignal, on, onCleanup, untrack, type Accessor } from "solid-js";
import { errorText, type Job } from "../api";
import { NO_EDGE, type EdgeAdjust } from "../exportChoice";
import { frameMaxSide, type Picture, type Size } from "../geometry";
import { isAbort, type ImageCache } from "../images";
import { LatestTracker, OneRequest } from "../latest";
import { NotMatted } from "../notMatted";

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
  /** The matte of the frame the editor is on, once loaded. */
  image: Accessor<HTMLImageElement | null>;
  /** The matte of frame `index` (the one whose picture the stage draws: another frame's stands
   * in while this one loads), when it is loaded: a matte is never drawn over another frame. */
  imageFor: (index: number | undefined) => HTMLImageElement | null;
  /** Why there is no matte to show (outside the result, not matted). */
  note: Accessor<string | null>;
  load: (jobId: string, index: number, signal?: AbortSignal) => Promise<HTMLImageElement>;
}

/** A loaded matte and the frame of the job it is of. */
interface MattePicture {
  jobId: string;
  index: number;
  image: HTMLImageElement;
}

export function createMatteImage(deps: MatteDeps): MatteImage {
  // The newest matte loaded and the one before it: while the next frame's picture loads, the
  // stage still draws the frame before, and with its own matte.
  const [shown, setShown] = createSignal<MattePicture[]>([]);
  const [note, setNote] = createSignal<string | null>(null);
  const request = new OneRequest();
  onCleanup(() => request.cancel());
  const notMatted = new NotMatted();

  const edge = () => deps.edge?.() ?? NO_EDGE;
  const key = (jid: string, i: number, ms: number, e: EdgeAdjust) => `a:${jid}:${i}:${ms}:${e.shiftEdge}:${e.feather}:${e.reduceChatter}`;
  const load = (jid: string, i: number, signal?: AbortSignal) => {
    const ms = Math.max(0, deps.maxSide());
    const e = edge();
    const job = untrack(deps.job);
    const k = key(jid, i, ms, e);
    return notMatted.watch(k, job?.id === jid ? job : undefined, deps.images.load(k, (s) => deps.fetchMatte(jid, i, ms, e, s), signal));
  };
  const show = (m: MattePicture) => setShown((list) => [m, ...list.filter((x) => x.jobId !== m.jobId || x.index !== m.index)].slice(0, 2));
  /** Frame `i` has no matte to show: not even one loaded before with another size or edge. */
  const showNone = (i: number, why: string) =>
    batch(() => {
      setShown((list) => list.filter((x) => x.index !== i));
      setNote(why);
    });
  // Said as any error is: the server's message names the job by its id, the editor does not.
  const noMatteNote = (i: number, e: unknown) => `No matte for frame ${i}: ${errorText(e)}`;
  const imageFor = (index: number | undefined) => {
    const jid = deps.job()?.id;
    return shown().find((m) => m.jobId === jid && m.index === index)?.image ?? null;
  };

  createEffect(() => {
    deps.online?.(); // back online: load again what failed meanwhile
    const job = deps.job();
    const i = deps.frame();
    const ms = Math.max(0, deps.maxSide());
    if (!job) {
      request.cancel();
      batch(() => {
        setShown([]);
        setNote(null);
      });
      return;
    }
    if (i < job.start || i > job.end) {
      request.cancel();
      setNote(`Outside the result: it covers frames ${job.start}–${job.end}`);
      return;
    }
    const wanted = key(job.id, i, ms, edge());
    const hit = deps.images.get(wanted);
    if (hit) {
      request.cancel();
      batch(() => {
        show({ jobId: job.id, index: i, image: hit });
        setNote(null);
      });
      return;
    }
    const missing = notMatted.answer(wanted, job);
    if (missing !== undefined) {
      request.cancel();
      showNone(i, noMatteNote(i, missing));
      return;
    }
    if (deps.online && !deps.online()) return; // asked again when the server is back
    const asked = request.ask(wanted);
    if (!asked) return;
    load(job.id, i, asked.signal)
      .then((img) => {
        if (!asked.current()) return;
        batch(() => {
          show({ jobId: job.id, index: i, image: img });
          setNote(null);
        });
      })
      .catch((e) => {
        if (isAbort(e) || !asked.current()) return;
        showNone(i, noMatteNote(i, e));
      })
      .finally(asked.end);
  });
  return { image: () => imageFor(deps.frame()), imageFor, note, load };
}
