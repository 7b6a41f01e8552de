// How a finished job is drawn over the video: its objects' colours, each object's own matte
// in the tint view (a job of several objects stores one per object), and the composite colour
// chosen for its export in the green-screen view.
import { createEffect, createSignal, onCleanup, untrack } from "solid-js";
import { ApiError, detailFromBody, urls, type Job, type MatteObject } from "./api";
import type { ComposeOptions, OverlayMode } from "./compose";
import { createEdge, exportChoice, lastChoice, NO_EDGE, type EdgeAdjust } from "./exportChoice";
import { ImageCache } from "./images";
import { OneRequest } from "./latest";
import { NotMatted } from "./notMatted";

/** URL of one object's own matte of a job's frame (GET /api/jobs/{id}/alpha/{i}?object_id=),
 * scaled like the union matte (`maxSide`, 0: full size) and with the same edge adjustment. */
export function objectAlphaUrl(jid: string, index: number, objectId: number, maxSide = 0, edge: EdgeAdjust = NO_EDGE): string {
  const url = urls.alpha(jid, index, maxSide, edge);
  return `${url}${url.includes("?") ? "&" : "?"}object_id=${objectId}`;
}

async function fetchBlob(url: string, signal: AbortSignal): Promise<Blob> {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new ApiError(res.status, detailFromBody(await res.json().catch(() => null), res.status, res.statusText));
  return res.blob();
}

export interface ResultViewInput {
  job: () => Job | undefined;
  frame: () => number;
  objects: () => MatteObject[];
  mode: () => OverlayMode;
  /** The long side the stage needs (the frames' own; 0 or less: full size). */
  maxSide?: () => number;
  /** Where the mattes are kept (default: a cache of its own); emptied when the view goes. */
  images?: ImageCache;
}

export interface ResultCompose {
  /** The compose options for drawing frame `index` (the one whose picture the stage draws):
   * its objects' own mattes only when they are of that frame. */
  options: (index: number | undefined) => ComposeOptions;
  /** Load frame `index`'s own mattes, when the view shows them (playback waits on them, so a
   * step never shows one colour first). Never rejects: the union stands in for them. */
  load: (index: number) => Promise<void>;
}

/** One frame's own mattes of each of a job's objects. */
interface FrameLayers {
  jid: string;
  index: number;
  ids: number[];
  alphas: HTMLImageElement[];
}

/**
 * The compose options of the result view. The per-object mattes load only in the tint view
 * of a job of several objects, and each frame's are drawn over that frame only (while the next
 * frame's picture loads, the frame before keeps its own). Where an object's matte cannot be had (a job
 * made before mattes were stored per object answers 404) the union shows in one colour.
 */
export function createResultCompose(input: ResultViewInput): ResultCompose {
  const images = input.images ?? new ImageCache({ maxBytes: 128 * 2 ** 20 });
  // The newest frame's mattes and those of the frame before.
  const [shown, setShown] = createSignal<FrameLayers[]>([]);
  const request = new OneRequest();
  const notMatted = new NotMatted();
  onCleanup(() => {
    request.cancel();
    images.drop();
  });

  const edge = createEdge(input.job);
  const colorOf = (oid: number) => input.objects().find((o) => o.id === oid)?.color ?? "#ffffff";
  const show = (l: FrameLayers) => setShown((list) => [l, ...list.filter((x) => x.jid !== l.jid || x.index !== l.index)].slice(0, 2));

  /** What the view wants of frame `i` now; null when it shows no object's own matte there. */
  const wantAt = (i: number) => {
    const job = input.job();
    const wanted =
      input.mode() === "tint" &&
      job &&
      (job.status === "done" || job.frames_done > 0) &&
      job.object_ids.length > 1 &&
      !notMatted.onlyUnion(job) &&
      i >= job.start &&
      i <= job.end;
    if (!wanted || !job) return null;
    const ms = Math.max(0, input.maxSide?.() ?? 0);
    const ids = [...job.object_ids];
    const e = edge(); // shown as the download has it
    const key = (oid: number) => `${job.id}:${i}:${oid}:${ms}:${e.shiftEdge}:${e.feather}:${e.reduceChatter}`;
    const what = JSON.stringify([job.id, i, ms, e, ids]);
    const layers = (alphas: HTMLImageElement[]): FrameLayers => ({ jid: job.id, index: i, ids, alphas });
    return {
      job,
      what,
      cached: () => {
        const alphas = ids.map((oid) => images.get(key(oid)));
        return alphas.every((a) => a !== undefined) ? layers(alphas as HTMLImageElement[]) : null;
      },
      get: (signal?: AbortSignal) =>
        notMatted.watch(what, job, Promise.all(ids.map((oid) => images.load(key(oid), (s) => fetchBlob(objectAlphaUrl(job.id, i, oid, ms, e), s), signal)))).then(layers),
    };
  };

  createEffect(() => {
    const want = wantAt(input.frame());
    if (!want) {
      request.cancel();
      setShown([]);
      return;
    }
    const hit = want.cached();
    // Not matted yet (playback asked already), or a job made before mattes were kept per
    // object: the union shows.
    if (hit || notMatted.answer(want.what, want.job) !== undefined) {
      request.cancel();
      if (hit) show(hit);
      return;
    }
    const asked = request.ask(want.what);
    if (!asked) return; // on its way (a running job's progress came meanwhile)
    want
      .get(asked.signal)
      .then((l) => {
        if (asked.current()) show(l);
      })
      .catch(() => undefined) // the union shows
      .finally(asked.end);
  });

  return {
    options: (index) => {
      const job = input.job();
      const l = job ? shown().find((x) => x.jid === job.id && x.index === index) : undefined;
      return {
        tint: job ? colorOf(job.object_ids[0]) : "#3ba4ff",
        background: `#${(job ? exportChoice(job) : lastChoice()).background}`,
        layers: l?.alphas.map((alpha, k) => ({ alpha, color: colorOf(l.ids[k]) })),
      };
    },
    load: (index) => {
      const want = untrack(() => wantAt(index));
      const done = () => undefined;
      return want ? want.get().then(done, done) : Promise.resolve();
    },
  };
}
