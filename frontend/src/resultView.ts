// How a finished job is drawn over the video: its objects' colours, each object's own matte
// in the tint view (a job of several objects stores one per object), and the composite colour
// chosen for its export in the green-screen view.
import { createEffect, createSignal, onCleanup } from "solid-js";
import { ApiError, detailFromBody, urls, type Job, type MatteObject } from "./api";
import type { ComposeOptions, MatteLayer, OverlayMode } from "./compose";
import { createEdge, exportChoice, lastChoice, NO_EDGE, type EdgeAdjust } from "./exportChoice";
import { ImageCache } from "./images";

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
}

/**
 * The compose options of the result view. The per-object mattes load only in the tint view
 * of a finished job of several objects; while the next frame's load, the last frame's stay
 * (no flicker to one colour during playback). Where an object's matte cannot be had (a job
 * made before mattes were stored per object answers 404) the union shows in one colour.
 */
export function createResultCompose(input: ResultViewInput): () => ComposeOptions {
  const images = new ImageCache({ maxBytes: 128 * 2 ** 20 });
  const [layers, setLayers] = createSignal<{ jid: string; layers: MatteLayer[] } | null>(null);
  let latest = 0;
  let superseded = new AbortController();
  let asking: string | null = null; // what the mattes on their way are for
  onCleanup(() => {
    superseded.abort();
    images.drop();
  });

  const edge = createEdge(input.job);
  const colorOf = (oid: number) => input.objects().find((o) => o.id === oid)?.color ?? "#ffffff";

  createEffect(() => {
    const job = input.job();
    const i = input.frame();
    const wanted =
      input.mode() === "tint" && job && (job.status === "done" || job.frames_done > 0) && job.object_ids.length > 1 && i >= job.start && i <= job.end;
    const ms = Math.max(0, input.maxSide?.() ?? 0);
    const ids = wanted && job ? [...job.object_ids] : [];
    const colors = ids.map(colorOf);
    const e = edge(); // shown as the download has it
    const want = wanted && job ? JSON.stringify([job.id, i, ms, e, ids, colors]) : null;
    // A running job comes anew with each frame it makes: the mattes already on their way are
    // the ones wanted, and asking again would cut them off (at every event, so they might
    // never come). Ones that failed (not matted yet) are asked again then.
    if (want !== null && want === asking) return;
    const token = ++latest;
    superseded.abort(); // the frame asked before this one is not wanted any more
    superseded = new AbortController();
    const signal = superseded.signal;
    asking = want;
    if (!wanted || !job) {
      if (layers()?.jid !== job?.id || !wanted) setLayers(null);
      return;
    }
    const key = (oid: number) => `${job.id}:${i}:${oid}:${ms}:${e.shiftEdge}:${e.feather}:${e.reduceChatter}`;
    Promise.all(ids.map((oid) => images.load(key(oid), (s) => fetchBlob(objectAlphaUrl(job.id, i, oid, ms, e), s), signal)))
      .then((imgs) => {
        if (token === latest) setLayers({ jid: job.id, layers: imgs.map((alpha, k) => ({ alpha, color: colors[k] })) });
      })
      .catch(() => {
        // Not matted yet, or a job made before mattes were kept per object: the union shows.
        if (token === latest) setLayers(null);
      })
      .finally(() => {
        if (token === latest) asking = null;
      });
  });

  return () => {
    const job = input.job();
    const l = layers();
    return {
      tint: job ? colorOf(job.object_ids[0]) : "#3ba4ff",
      background: `#${(job ? exportChoice(job) : lastChoice()).background}`,
      layers: l && l.jid === job?.id ? l.layers : undefined,
    };
  };
}
