// Mask previews of prompted frames: one object URL per frame, computed after the frame's saves
// landed, the latest request per frame winning (an older one is aborted).
import { createSignal, onCleanup } from "solid-js";
import { isAbort } from "../images";
import { LatestTracker } from "../latest";

export interface PreviewDeps {
  /** The preview PNG of `frame` (the server draws every object's mask). */
  fetch: (frame: number, signal: AbortSignal) => Promise<Blob>;
  /** Saves of `frame` still on their way: the preview must see them. */
  pendingSaves: (frame: number) => Promise<void>[];
  /** Whether the server answers now; while not, previews wait for it. */
  online: () => boolean;
  report: (error: unknown, title: string) => void;
}

export interface Previews {
  url: (frame: number) => string | undefined;
  busy: (frame: number) => boolean;
  has: (frame: number) => boolean;
  pending: (frame: number) => boolean;
  refresh: (frame: number) => Promise<void>;
  /** Previews of other frames may depend on changed points: forget them (they reload on visit). */
  dropExcept: (keep: ReadonlySet<number>) => void;
}

export function createPreviews(deps: PreviewDeps): Previews {
  const [urls, setUrls] = createSignal<ReadonlyMap<number, string>>(new Map());
  const [busy, setBusySet] = createSignal<ReadonlySet<number>>(new Set());
  const tracker = new LatestTracker<number>();
  let disposed = false;

  const setBusy = (f: number, on: boolean) =>
    setBusySet((s) => {
      const next = new Set(s);
      if (on) next.add(f);
      else next.delete(f);
      return next;
    });

  const put = (f: number, url: string | null) =>
    setUrls((m) => {
      const next = new Map(m);
      const old = next.get(f);
      if (old && old !== url) URL.revokeObjectURL(old);
      if (url) next.set(f, url);
      else next.delete(f);
      return next;
    });

  const refresh = async (f: number) => {
    if (disposed) return; // asked by an answer that came after the project was left
    const { token, signal } = tracker.begin(f);
    setBusy(f, true);
    try {
      await Promise.all(deps.pendingSaves(f));
      if (!tracker.isLatest(f, token) || !deps.online()) return;
      const blob = await deps.fetch(f, signal);
      if (!tracker.isLatest(f, token) || disposed) return;
      put(f, URL.createObjectURL(blob));
    } catch (e) {
      if (isAbort(e)) return;
      if (tracker.isLatest(f, token)) deps.report(e, `Preview of frame ${f} failed`);
    } finally {
      if (tracker.isLatest(f, token)) {
        setBusy(f, false);
        tracker.end(f, token);
      }
    }
  };

  const dropExcept = (keep: ReadonlySet<number>) => {
    for (const f of [...urls().keys()]) if (!keep.has(f)) put(f, null);
    for (const f of [...busy()]) {
      if (!keep.has(f)) {
        tracker.cancel(f);
        setBusy(f, false);
      }
    }
  };

  onCleanup(() => {
    disposed = true;
    tracker.cancel();
    urls().forEach((url) => URL.revokeObjectURL(url));
  });

  return {
    url: (f) => urls().get(f),
    busy: (f) => busy().has(f),
    has: (f) => urls().has(f),
    pending: (f) => tracker.pending(f),
    refresh,
    dropExcept,
  };
}
