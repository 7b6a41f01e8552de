import { Show, batch, createEffect, createMemo, createSignal, on, onCleanup, onMount, untrack } from "solid-js";
import { api, errorText, type MatteObject, type Project } from "../api";
import { OVERLAY_MODES, type OverlayMode } from "../compose";
import { pendingConfirm, confirmAction } from "../confirm";
import { fitRect, requestMaxSide, roundCoord, type Size, type Vec } from "../geometry";
import { ImageCache } from "../images";
import { createJobsStore } from "../jobs";
import { actionForKey, isTypingTarget } from "../keyboard";
import { LatestTracker } from "../latest";
import { nextColor, nextObjectName } from "../palette";
import {
  UndoStack,
  adjacentPromptedFrame,
  applyClick,
  clearFrame,
  fromFramePoints,
  framesWithPoints,
  parseKey,
  pointKey,
  pointsOnFrame,
  removeObject,
  revert,
  type Edit,
  type Label,
  type Point,
  type PointMap,
} from "../points";
import { clampFrame } from "../timecode";
import { showError, showInfo } from "../toasts";
import { flagMarks, followTrack, hasMask, trackApi, trackMaskUrl, type Track } from "../track";
import { FrameStage, type Marker } from "./FrameStage";
import { MattingDialog } from "./MattingDialog";
import { ObjectList } from "./ObjectList";
import { ResultsPanel } from "./ResultsPanel";
import { ShortcutsHelp } from "./ShortcutsHelp";
import { TrackBar } from "./TrackBar";
import { Transport } from "./Transport";
import { Icon } from "./Icon";

export interface EditorProps {
  project: Project;
  initialFrame: number;
  onFrame: (frame: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function Editor(props: EditorProps) {
  const pid = props.project.id;
  const video = () => props.project.video;
  const frameCount = () => video().frame_count;
  const fps = () => video().fps || 25;

  const [frame, setFrameRaw] = createSignal(clampFrame(props.initialFrame, props.project.video.frame_count));
  const [objects, setObjects] = createSignal<MatteObject[]>([]);
  const [selected, setSelected] = createSignal<number | null>(null);
  const [points, setPoints] = createSignal<PointMap>(new Map());
  const [loaded, setLoaded] = createSignal(false);
  const [undoSize, setUndoSize] = createSignal(0);
  const [stageSize, setStageSize] = createSignal<Size>({ width: 0, height: 0 });
  const [frameImage, setFrameImage] = createSignal<HTMLImageElement | null>(null);
  const [frameLoading, setFrameLoading] = createSignal(false);
  const [alphaImage, setAlphaImage] = createSignal<HTMLImageElement | null>(null);
  const [alphaNote, setAlphaNote] = createSignal<string | null>(null);
  const [previews, setPreviews] = createSignal<ReadonlyMap<number, string>>(new Map());
  const [previewBusy, setPreviewBusy] = createSignal<ReadonlySet<number>>(new Set());
  const [mode, setMode] = createSignal<OverlayMode>("off");
  const [activeJobId, setActiveJobId] = createSignal<string | null>(null);
  const [playing, setPlaying] = createSignal(false);
  const [mattingOpen, setMattingOpen] = createSignal(false);
  const [helpOpen, setHelpOpen] = createSignal(false);
  const [maskVisible, setMaskVisible] = createSignal(true);
  const [track, setTrack] = createSignal<Track | null>(null);
  const [trackVersion, setTrackVersion] = createSignal(0); // a new run's masks load anew

  const undo = new UndoStack();
  const images = new ImageCache(90);
  const frameTracker = new LatestTracker<string>();
  const previewTracker = new LatestTracker<number>();
  const saveChains = new Map<string, Promise<void>>();
  const jobs = createJobsStore(pid);
  let disposed = false;

  const setFrame = (f: number) => setFrameRaw(clampFrame(f, frameCount()));
  createEffect(() => props.onFrame(frame()));

  const selectedObject = () => objects().find((o) => o.id === selected()) ?? null;
  const activeJob = () => (activeJobId() ? jobs.get(activeJobId()!) : undefined);
  const colorOf = (oid: number) => objects().find((o) => o.id === oid)?.color ?? "#ffffff";

  // ---------- initial load ----------
  onMount(async () => {
    try {
      const [objs, pts] = await Promise.all([api.listObjects(pid), api.listPoints(pid)]);
      if (disposed) return;
      batch(() => {
        setObjects(objs);
        setPoints(fromFramePoints(pts));
        setSelected(objs[0]?.id ?? null);
        setLoaded(true);
      });
      await refreshTrack(true);
    } catch (e) {
      showError(errorText(e), "Could not load the project's objects and points");
    }
  });

  onCleanup(() => {
    disposed = true;
    setPlaying(false);
    frameTracker.cancel();
    previewTracker.cancel();
    images.drop();
    previews().forEach((url) => URL.revokeObjectURL(url));
  });

  // ---------- frames ----------
  const maxSide = createMemo(() => {
    const s = stageSize();
    if (s.width <= 0 || s.height <= 0) return -1;
    const f = fitRect(s, video());
    return requestMaxSide(Math.max(f.width, f.height), Math.max(video().width, video().height), window.devicePixelRatio || 1);
  });

  const frameKey = (i: number, ms: number) => `f:${i}:${ms}`;
  const loadFrame = (i: number) => {
    const ms = Math.max(0, maxSide());
    return images.load(frameKey(i, ms), () => api.frame(pid, i, ms || undefined));
  };

  let lastFrameError = "";
  createEffect(
    on([frame, maxSide], ([i, ms]) => {
      if (ms < 0) return;
      const hit = images.get(frameKey(i, ms));
      if (hit) {
        setFrameImage(hit);
        setFrameLoading(false);
        return;
      }
      const { token } = frameTracker.begin("frame");
      setFrameLoading(true);
      loadFrame(i)
        .then((img) => {
          if (!frameTracker.isLatest("frame", token)) return;
          setFrameImage(img);
          lastFrameError = "";
          if (!playing() && i + 1 < frameCount()) void loadFrame(i + 1).catch(() => undefined);
        })
        .catch((e) => {
          if (!frameTracker.isLatest("frame", token)) return;
          const msg = errorText(e);
          if (msg !== lastFrameError) showError(msg, `Could not load frame ${i}`);
          lastFrameError = msg;
        })
        .finally(() => {
          if (frameTracker.isLatest("frame", token)) setFrameLoading(false);
        });
    }),
  );

  // ---------- result mattes ----------
  const needsAlpha = () => mode() !== "off" && activeJob()?.status === "done";
  const loadAlpha = (jid: string, i: number) => images.load(`a:${jid}:${i}`, () => api.alpha(jid, i));
  createEffect(() => {
    const job = activeJob();
    const i = frame();
    if (!needsAlpha() || !job) {
      setAlphaImage(null);
      setAlphaNote(null);
      return;
    }
    if (i < job.start || i > job.end) {
      setAlphaImage(null);
      setAlphaNote(`Outside the result: it covers frames ${job.start}–${job.end}`);
      return;
    }
    const { token } = frameTracker.begin("alpha");
    const hit = images.get(`a:${job.id}:${i}`);
    if (hit) {
      setAlphaImage(hit);
      setAlphaNote(null);
      return;
    }
    loadAlpha(job.id, i)
      .then((img) => {
        if (!frameTracker.isLatest("alpha", token)) return;
        setAlphaImage(img);
        setAlphaNote(null);
      })
      .catch((e) => {
        if (!frameTracker.isLatest("alpha", token)) return;
        setAlphaImage(null);
        setAlphaNote(`No matte for frame ${i}: ${errorText(e)}`);
      });
  });

  // ---------- track ----------
  let stopFollowing: (() => void) | null = null;
  onCleanup(() => stopFollowing?.());
  const showTrack = (t: Track | null) => {
    if (t && t.status !== "running" && track()?.status === "running") setTrackVersion((v) => v + 1);
    setTrack(t);
  };
  const follow = () => {
    stopFollowing?.();
    stopFollowing = followTrack(pid, showTrack, (m) => showError(m, "Tracking"));
  };
  /** Read the track again (its `stale` changes with the points); follow it when it runs. */
  const refreshTrack = async (followRunning = false) => {
    try {
      const t = await trackApi.get(pid);
      if (disposed) return;
      showTrack(t);
      if (followRunning && t?.status === "running") follow();
    } catch (e) {
      showError(errorText(e), "Could not read the track");
    }
  };
  const startTrack = async () => {
    try {
      setTrackVersion((v) => v + 1);
      showTrack(await trackApi.start(pid, 0, frameCount() - 1));
      follow();
    } catch (e) {
      showError(errorText(e), "Could not start tracking");
    }
  };
  const cancelTrack = async () => {
    try {
      stopFollowing?.();
      showTrack(await trackApi.cancel(pid));
    } catch (e) {
      showError(errorText(e), "Could not cancel tracking");
    }
  };
  const trackOverlay = () => (hasMask(track(), frame()) ? trackMaskUrl(pid, frame(), trackVersion()) : null);

  // ---------- previews ----------
  const setBusy = (f: number, busy: boolean) =>
    setPreviewBusy((s) => {
      const next = new Set(s);
      if (busy) next.add(f);
      else next.delete(f);
      return next;
    });

  const putPreview = (f: number, url: string | null) =>
    setPreviews((m) => {
      const next = new Map(m);
      const old = next.get(f);
      if (old && old !== url) URL.revokeObjectURL(old);
      if (url) next.set(f, url);
      else next.delete(f);
      return next;
    });

  /** Previews of other frames may depend on these points: forget them (they reload on visit). */
  const dropPreviewsExcept = (keep: ReadonlySet<number>) => {
    for (const f of [...previews().keys()]) if (!keep.has(f)) putPreview(f, null);
    for (const f of [...previewBusy()]) {
      if (!keep.has(f)) {
        previewTracker.cancel(f);
        setBusy(f, false);
      }
    }
  };

  const refreshPreview = async (f: number) => {
    const { token, signal } = previewTracker.begin(f);
    setBusy(f, true);
    try {
      const pending = [...saveChains.entries()].filter(([k]) => parseKey(k).frame === f).map(([, p]) => p);
      try {
        await Promise.all(pending);
      } catch {
        return; // the failed save has reported itself
      }
      if (!previewTracker.isLatest(f, token)) return;
      const ms = maxSide();
      const blob = await api.preview(pid, f, { maxSide: ms > 0 ? ms : undefined }, signal);
      if (!previewTracker.isLatest(f, token) || disposed) return;
      putPreview(f, URL.createObjectURL(blob));
    } catch (e) {
      if ((e as Error)?.name === "AbortError") return;
      if (previewTracker.isLatest(f, token)) showError(errorText(e), `Preview of frame ${f} failed`);
    } finally {
      if (previewTracker.isLatest(f, token)) {
        setBusy(f, false);
        previewTracker.end(f, token);
      }
    }
  };

  // Visiting a prompted frame shows its preview.
  createEffect(
    on([frame, points, loaded], ([f, map, ok]) => {
      if (!ok || playing()) return;
      const has = pointsOnFrame(map, f).length > 0;
      if (has && !untrack(previews).has(f) && !previewTracker.pending(f)) void refreshPreview(f);
    }),
  );

  // ---------- saving points ----------
  const save = (oid: number, f: number, pts: readonly Point[]) => {
    const key = pointKey(oid, f);
    const prev = saveChains.get(key) ?? Promise.resolve();
    const p = prev
      .catch(() => undefined)
      .then(() => api.putPoints(pid, oid, f, pts))
      .then(() => undefined);
    saveChains.set(key, p);
    p.then(
      () => {
        if (saveChains.get(key) === p) saveChains.delete(key);
        if (track()) void refreshTrack(); // is it stale now?
      },
      async (e) => {
        if (saveChains.get(key) === p) saveChains.delete(key);
        showError(errorText(e), `Could not save the points of frame ${f}`);
        // Show the server's truth again.
        try {
          setPoints(fromFramePoints(await api.listPoints(pid)));
        } catch {
          /* reported above */
        }
      },
    );
    return p;
  };

  /** Show the new points at once, PUT them (in order per object and frame), then re-preview. */
  const applyEdit = (map: PointMap, edit: Edit, values: "after" | "before") =>
    batch(() => {
      setPoints(map);
      const frames = new Set<number>();
      for (const c of edit.changes) {
        void save(c.objectId, c.frame, c[values]).catch(() => undefined);
        frames.add(c.frame);
      }
      dropPreviewsExcept(frames);
      for (const f of frames) void refreshPreview(f);
    });

  const commit = (map: PointMap, edit: Edit) => {
    undo.push(edit);
    setUndoSize(undo.size);
    applyEdit(map, edit, "after");
  };

  // ---------- objects ----------
  const addObject = async (): Promise<MatteObject | null> => {
    try {
      const o = await api.createObject(pid, {
        name: nextObjectName(objects().map((x) => x.name)),
        color: nextColor(objects().map((x) => x.color)),
      });
      batch(() => {
        setObjects((l) => [...l, o]);
        setSelected(o.id);
      });
      return o;
    } catch (e) {
      showError(errorText(e), "Could not add an object");
      return null;
    }
  };

  const renameObject = async (oid: number, name: string) => {
    try {
      const o = await api.updateObject(pid, oid, { name });
      setObjects((l) => l.map((x) => (x.id === oid ? o : x)));
    } catch (e) {
      showError(errorText(e), "Rename failed");
    }
  };

  const recolorObject = async (oid: number, color: string) => {
    try {
      const o = await api.updateObject(pid, oid, { color });
      setObjects((l) => l.map((x) => (x.id === oid ? o : x)));
      dropPreviewsExcept(new Set());
      if (pointsOnFrame(points(), frame()).length) void refreshPreview(frame());
    } catch (e) {
      showError(errorText(e), "Could not change the colour");
    }
  };

  const deleteObject = async (oid: number) => {
    const o = objects().find((x) => x.id === oid);
    if (!o) return;
    const frames = framesWithPoints(points(), [oid]);
    const ok = await confirmAction({
      title: `Delete "${o.name}"?`,
      message: frames.length
        ? `Its points on ${frames.length} frame${frames.length === 1 ? "" : "s"} are deleted too.`
        : "It has no points yet.",
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteObject(pid, oid);
      batch(() => {
        const rest = objects().filter((x) => x.id !== oid);
        setObjects(rest);
        setPoints(removeObject(points(), oid));
        if (selected() === oid) setSelected(rest[0]?.id ?? null);
      });
      undo.dropObject(oid);
      setUndoSize(undo.size);
      dropPreviewsExcept(new Set());
      if (frames.includes(frame()) || pointsOnFrame(points(), frame()).length) void refreshPreview(frame());
    } catch (e) {
      showError(errorText(e), "Could not delete the object");
    }
  };

  // ---------- editing ----------
  let creating: Promise<MatteObject | null> | null = null;
  const onPoint = async (at: Vec, label: Label, radius: number) => {
    if (!loaded()) return;
    let oid = selected();
    if (oid == null || !objects().some((o) => o.id === oid)) {
      const first = objects()[0];
      if (first) {
        oid = first.id;
        setSelected(oid);
      } else {
        creating ??= addObject().finally(() => (creating = null));
        const o = await creating;
        if (!o) return;
        oid = o.id;
      }
    }
    const f = frame();
    const r = applyClick(points(), f, oid, { x: roundCoord(at.x), y: roundCoord(at.y) }, label, radius);
    commit(r.map, r.edit);
  };

  const doUndo = () => {
    const edit = undo.pop();
    setUndoSize(undo.size);
    if (!edit) {
      showInfo("Nothing to undo.");
      return;
    }
    const target = edit.changes[0]?.frame;
    if (target !== undefined && target !== frame()) setFrame(target);
    applyEdit(revert(points(), edit), edit, "before");
  };

  const doClearFrame = () => {
    const r = clearFrame(points(), frame());
    if (!r) {
      showInfo(`Frame ${frame()} has no points.`);
      return;
    }
    commit(r.map, r.edit);
  };

  // ---------- playback ----------
  const playRange = () => {
    const j = activeJob();
    if (j && j.status === "done" && mode() !== "off") return { start: j.start, end: j.end };
    return { start: 0, end: frameCount() - 1 };
  };

  const playLoop = async () => {
    while (playing() && !disposed) {
      const t0 = performance.now();
      const r = playRange();
      let next = frame() + 1;
      if (next > r.end || next < r.start) next = r.start;
      try {
        const job = activeJob();
        await Promise.all([
          loadFrame(next),
          needsAlpha() && job && next >= job.start && next <= job.end ? loadAlpha(job.id, next) : null,
        ]);
      } catch (e) {
        showError(errorText(e), "Playback stopped");
        setPlaying(false);
        break;
      }
      if (!playing()) break;
      setFrame(next);
      const wait = 1000 / fps() - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
    }
  };

  const togglePlay = () => {
    if (playing()) {
      setPlaying(false);
      return;
    }
    const r = playRange();
    if (frame() < r.start || frame() >= r.end) setFrame(r.start);
    setPlaying(true);
    void playLoop();
  };

  // ---------- results ----------
  const activate = (jid: string | null) => {
    batch(() => {
      setActiveJobId(jid);
      if (jid && mode() === "off") setMode("tint");
      if (!jid) setMode("off");
    });
    const j = jid ? jobs.get(jid) : undefined;
    if (j && (frame() < j.start || frame() > j.end)) setFrame(j.start);
  };

  const cycleMode = (delta: number) => {
    const j = activeJob();
    if (!j || j.status !== "done") {
      const done = jobs.jobs().find((x) => x.status === "done");
      if (!done) {
        showInfo("No finished result to view yet.");
        return;
      }
      activate(done.id);
      return;
    }
    const ids = OVERLAY_MODES.map((m) => m.id);
    const i = ids.indexOf(mode());
    setMode(ids[(i + delta + ids.length) % ids.length]);
  };

  // ---------- keyboard ----------
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || mattingOpen() || helpOpen() || pendingConfirm()) {
      if (helpOpen() && (e.key === "Escape" || e.key === "?")) setHelpOpen(false);
      return;
    }
    if (isTypingTarget(e.target)) return;
    const a = actionForKey(e);
    if (!a) return;
    e.preventDefault();
    switch (a.type) {
      case "step":
        setFrame(frame() + a.delta);
        break;
      case "first":
        setFrame(0);
        break;
      case "last":
        setFrame(frameCount() - 1);
        break;
      case "undo":
        doUndo();
        break;
      case "play":
        togglePlay();
        break;
      case "clear-frame":
        doClearFrame();
        break;
      case "preview":
        void refreshPreview(frame());
        break;
      case "new-object":
        void addObject();
        break;
      case "select-object": {
        const o = objects()[a.index];
        if (o) setSelected(o.id);
        break;
      }
      case "cycle-overlay":
        cycleMode(a.delta);
        break;
      case "matting":
        setMattingOpen(true);
        break;
      case "help":
        setHelpOpen(true);
        break;
      case "prompted": {
        const f = adjacentPromptedFrame(points(), frame(), a.direction);
        if (f === null) showInfo(a.direction > 0 ? "No points after this frame." : "No points before this frame.");
        else setFrame(f);
        break;
      }
      case "toggle-mask":
        setMaskVisible(!maskVisible());
        break;
    }
  };
  onMount(() => window.addEventListener("keydown", onKey));
  onCleanup(() => window.removeEventListener("keydown", onKey));

  // ---------- derived view data ----------
  const markers = createMemo<Marker[]>(() =>
    pointsOnFrame(points(), frame()).map((c) => ({
      ...c,
      color: colorOf(c.objectId),
      selected: c.objectId === selected(),
    })),
  );

  const seekMarkers = createMemo(() => {
    const byFrame = new Map<number, number[]>();
    for (const [key, pts] of points()) {
      if (!pts.length) continue;
      const k = parseKey(key);
      byFrame.set(k.frame, [...(byFrame.get(k.frame) ?? []), k.objectId]);
    }
    return [...byFrame.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([f, oids]) => ({ frame: f, color: oids.length === 1 ? colorOf(oids[0]) : "#ffffff" }));
  });

  const pointCounts = createMemo(() => {
    const m = new Map<number, number>();
    for (const [key, pts] of points()) {
      const k = parseKey(key);
      m.set(k.objectId, (m.get(k.objectId) ?? 0) + pts.length);
    }
    return m;
  });

  const frameSummary = () => {
    const on = pointsOnFrame(points(), frame());
    const pos = on.filter((c) => c.point.label === "positive").length;
    return on.length ? `${pos} positive, ${on.length - pos} negative on this frame` : "no points on this frame";
  };

  const resultRange = () => {
    const j = activeJob();
    return j && j.status === "done" ? { start: j.start, end: j.end } : null;
  };

  const badge = () => {
    if (mode() !== "off" && alphaNote()) return alphaNote();
    return null;
  };

  return (
    <>
      <main class="editor-main" data-testid="editor" data-project-id={pid}>
        <div class="toolbar">
          <div class="tool-hint">
            <Show
              when={selectedObject()}
              fallback={<span class="muted">Click on the video to add a point to a new object</span>}
            >
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
            <TrackBar
              track={track()}
              canTrack={loaded() && seekMarkers().length > 0}
              onTrack={() => void startTrack()}
              onCancel={() => void cancelTrack()}
            />
            <button class="btn btn-small" data-testid="undo" title="Undo (Ctrl+Z)" disabled={undoSize() === 0} onClick={doUndo}>
              <Icon name="undo" size={13} /> Undo
            </button>
            <button
              class="btn btn-small"
              data-testid="clear-frame"
              title="Remove every point of this frame (Delete)"
              disabled={pointsOnFrame(points(), frame()).length === 0}
              onClick={doClearFrame}
            >
              Clear frame
            </button>
            <button
              class={`btn btn-small ${maskVisible() ? "" : "btn-on"}`}
              data-testid="preview-toggle"
              aria-pressed={!maskVisible()}
              title="Show or hide the mask preview (V)"
              onClick={() => setMaskVisible(!maskVisible())}
            >
              {maskVisible() ? "Hide mask" : "Show mask"}
            </button>
            <button class="btn btn-small" data-testid="preview-refresh" title="Preview this frame (P)" onClick={() => void refreshPreview(frame())}>
              Preview
            </button>
            <button class="btn btn-small btn-primary" data-testid="matting-open" title="Matting (M)" onClick={() => setMattingOpen(true)}>
              Matting…
            </button>
            <button class="icon-btn" title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts" data-testid="help-open" onClick={() => setHelpOpen(true)}>
              <Icon name="help" />
            </button>
          </div>
        </div>
        <FrameStage
          video={video()}
          frameIndex={frame()}
          mode={mode()}
          frameImage={frameImage()}
          alphaImage={alphaImage()}
          compose={{ tint: activeJob() ? colorOf(activeJob()!.object_ids[0]) : "#3ba4ff", background: "#00b140" }}
          markers={markers()}
          previewUrl={maskVisible() ? (previews().get(frame()) ?? trackOverlay()) : null}
          previewLoading={previewBusy().has(frame())}
          frameLoading={frameLoading()}
          editable={loaded() && !playing()}
          badge={badge()}
          summary={frameSummary()}
          onPoint={(at, label, radius) => void onPoint(at, label, radius)}
          onResize={setStageSize}
        />
        <Transport
          frame={frame()}
          frameCount={frameCount()}
          fps={fps()}
          playing={playing()}
          markers={seekMarkers()}
          range={resultRange()}
          flags={flagMarks(track(), (oid) => objects().find((o) => o.id === oid)?.name ?? `object ${oid}`)}
          onSeek={setFrame}
          onStep={(d) => setFrame(frame() + d)}
          onPlay={togglePlay}
        />
      </main>
      <aside class="panel right-panel" data-testid="side-panel">
        <ObjectList
          objects={objects()}
          selectedId={selected()}
          pointCounts={pointCounts()}
          onSelect={setSelected}
          onAdd={() => void addObject()}
          onRename={(oid, name) => void renameObject(oid, name)}
          onColor={(oid, c) => void recolorObject(oid, c)}
          onDelete={(oid) => void deleteObject(oid)}
        />
        <ResultsPanel
          jobs={jobs}
          objects={objects()}
          activeJobId={activeJobId()}
          mode={mode()}
          onActivate={activate}
          onMode={(m) => (m === "off" || activeJob()?.status === "done" ? setMode(m) : undefined)}
        />
      </aside>
      <Show when={mattingOpen()}>
        <MattingDialog
          project={props.project}
          objects={objects()}
          points={points()}
          jobs={jobs}
          onClose={() => setMattingOpen(false)}
          onView={(jid) => {
            setMattingOpen(false);
            activate(jid);
          }}
        />
      </Show>
      <Show when={helpOpen()}>
        <ShortcutsHelp onClose={() => setHelpOpen(false)} />
      </Show>
    </>
  );
}
