// One project's editor state: the editor's parts (frames, prompts and their saving, previews,
// objects, the track, results, playback, keys, the connection) created and wired together.
import { createEffect, createSignal, on, onCleanup, onMount, untrack } from "solid-js";
import { api, ApiError, errorText, isUnreachable, online, type Project } from "../api";
import { pendingConfirm } from "../confirm";
import { createEdge } from "../exportChoice";
import { dialogOpen } from "../focusTrap";
import { stageFit } from "../compose";
import { clampPan, FIT_VIEW, ZOOM_STEP, zoomAt, type Size, type View } from "../geometry";
import { ImageCache } from "../images";
import { UNSAVED_CLICKS, useProjectLeaveGuard } from "../leaveGuard";
import { createJobsStore } from "../jobs";
import { fromFramePoints, parseKey, pointsOnFrame, type PointMap } from "../points";
import { createResultCompose } from "../resultView";
import { clampFrame } from "../timecode";
import { showError } from "../toasts";
import { createActions } from "./actions";
import { watchConnection } from "./connection";
import { createInOut, playRange } from "./inout";
import { createFrameImage, createMatteImage } from "./frames";
import { createObjects, withObjectNames } from "./objects";
import { createPlayback, prepareStep } from "./playback";
import { createPreviews } from "./previews";
import { createPrompts } from "./prompts";
import { createResults } from "./results";
import { notSavedText, PromptSaver } from "./saving";
import { createTrackState } from "./track";
import { unsavedCount } from "./view";

/** Decoded frames and mattes kept for scrubbing back and forth (4 bytes a pixel). */
const IMAGE_CACHE_BYTES = 256 * 1024 * 1024;

export interface EditorInput {
  project: Project;
  initialFrame: number;
  onFrame: (frame: number) => void;
  /** A link to this project followed while it is open (the address's `?f=` changed): the
   * frame it names, each time anew. */
  frameAsked?: { frame: number } | null;
}

/** The server's points `read`, with `pending` (saves not landed yet) over them for the objects
 * in `objectIds`. */
function withPending(read: PointMap, pending: PointMap, objectIds: ReadonlySet<number>): PointMap {
  const map = new Map(read);
  for (const [key, points] of pending) {
    if (!objectIds.has(parseKey(key).objectId)) continue;
    if (points.length) map.set(key, points);
    else map.delete(key);
  }
  return map;
}

export function createEditor(props: EditorInput) {
  const pid = props.project.id;
  const video = () => props.project.video;
  const frameCount = () => video().frame_count;
  const [frame, setFrameRaw] = createSignal(clampFrame(props.initialFrame, props.project.video.frame_count));
  const setFrame = (f: number) => setFrameRaw(clampFrame(f, frameCount()));
  createEffect(() => props.onFrame(frame()));
  createEffect(on(() => props.frameAsked, (asked) => asked && setFrame(asked.frame), { defer: true }));
  const [loaded, setLoaded] = createSignal(false);
  const [stageSize, setStageSize] = createSignal<Size>({ width: 0, height: 0 });
  const [mattingOpen, setMattingOpen] = createSignal(false);
  const [helpOpen, setHelpOpen] = createSignal(false);
  // Asks the transport to open its go-to field (G): a count, so that each press asks anew.
  const [gotoAsked, setGotoAsked] = createSignal(0);
  const [maskVisible, setMaskVisible] = createSignal(true);
  // The stage's zoom and pan: kept while stepping frames (the user works at one spot through
  // them), fitted again for another project (this state is made anew for each).
  const [view, setView] = createSignal<View>(FIT_VIEW);

  const images = new ImageCache({ maxBytes: IMAGE_CACHE_BYTES });
  onCleanup(() => images.drop());
  // Closed (the user left the project, having been asked if work was held): a request of this
  // project answered later says nothing in the next one, and a new object still being asked for
  // (a held first click's, given up) is asked for no more.
  const closing = new AbortController();
  onCleanup(() => closing.abort());
  const jobs = createJobsStore(pid);
  const objects = createObjects(pid, api, closing.signal);
  /** An error as a toast, naming objects as the list does. */
  const tell = (e: unknown, title: string) => {
    if (!closing.signal.aborted) showError(withObjectNames(errorText(e), objects.list()), title);
  };
  /** Errors of work that waits for the server: not told while it is away (the toolbar says
   * so, and the work is done when it is back). */
  const report = (e: unknown, title: string) => {
    if (!isUnreachable(e) && online()) tell(e, title);
  };
  /** The clicks the server lacks: points held (unsaved) and held first clicks. */
  const unsavedClicks = () => unsavedCount(prompts.points(), (oid, f, p) => saver.isUnsaved(oid, f, p)) + saver.heldEdits();
  /** Why a track or a job would run without some of the user's clicks, once the saves under
   * way (those clicked meanwhile too) landed: null when the server holds them all. */
  const notSaved = (work: "track" | "job"): string | null => {
    if (!saver.holding()) return null;
    const cause = !online() ? "offline" : saver.diskFull() ? "disk-full" : saver.objectWait() ? "object" : saver.waitsOnDelete() ? "delete" : "other";
    // A point removed while held leaves none to count: it is one change still.
    return notSavedText(Math.max(1, unsavedClicks()), cause, work);
  };
  // A track takes the points the server holds: it starts once the saves under way landed, and
  // not while some are held (it would run without them).
  const track = createTrackState(pid, report, {
    ready: () => saver.landed(),
    notSaved: () => notSaved("track"),
    refuse: (text) => tell(new Error(text), "Track not started"),
  });
  // The server's objects and points: on opening, after a refused save (an object deleted in
  // another tab goes from the list), when the tab is shown again. A change drops the previews
  // drawn with the old ones. `unlessEdited`: kept from a tab whose edits are not all saved
  // (they would vanish from the stage), or that edits while the read is under way (the read
  // may predate the edit).
  // Reads overlap (a tab clicked into and shown again, a refused save): the one begun last is
  // the newest, one begun before it that lands later is dropped, and what another read put in
  // place meanwhile is no edit of the user's (a later read was dropped for it, the other tab's
  // newest point missed).
  let reads = 0;
  let landed: { read: number; objects?: unknown; points?: unknown } = { read: 0 };
  const readObjectsAndPoints = async (unlessEdited = false) => {
    const read = ++reads;
    const shown = { objects: objects.list(), points: prompts.points() };
    const kept = (now: unknown, before: unknown, readMeanwhile: unknown) => now === before || now === readMeanwhile;
    const edited = () =>
      !saver.settled() || !kept(objects.list(), shown.objects, landed.objects) || !kept(prompts.points(), shown.points, landed.points);
    if (unlessEdited && edited()) return;
    const [objs, pts] = await Promise.all([api.listObjects(pid), api.listPoints(pid)]);
    if (read < landed.read || (unlessEdited && edited())) return;
    const objectsChanged = objects.reset(objs);
    if (objectsChanged) saver.objectsRead();
    // Points held (the server away, its disk full) or on their way are still to be saved:
    // they stay on the stage over the server's, unless their object is gone.
    const pointsChanged = prompts.reset(withPending(fromFramePoints(pts), saver.pendingPoints(), new Set(objs.map((o) => o.id))));
    landed = { read, objects: objects.list(), points: prompts.points() };
    if (!objectsChanged && !pointsChanged) return;
    previews.dropExcept(new Set());
    if (pointsOnFrame(prompts.points(), frame()).length) void previews.refresh(frame());
  };
  const saver = new PromptSaver({
    put: (oid, f, pts, expected) => api.putPoints(pid, oid, f, pts, expected),
    online,
    onSaved: () => void (track.track() && track.refresh()), // is the track stale now?
    onRefused: (e, oid, f) => {
      if (closing.signal.aborted) return; // answered after the project was left
      const name = objects.nameOf(oid);
      // The server's message asks to reload, which the editor does itself.
      const conflict = e instanceof ApiError && e.status === 409;
      const text = `Another tab or window changed the points of "${name}" here: they are reloaded, click again.`;
      tell(conflict ? new Error(text) : e, `Could not save the points of frame ${f}`);
      readObjectsAndPoints().catch((e) => report(e, "Could not read the objects and points"));
    },
    onDiskFull: (e) => tell(e, "Points not saved: they are kept here and sent again at Retry or your next click"),
  });
  // Points held while the server is away (or while their object's delete is on its way) go
  // with the page, and with this editor: the browser asks before the page is left, the app
  // before another project is opened, once the saves on their way are answered (one refused
  // for a full disk is held only here).
  useProjectLeaveGuard(() => saver.holding(), UNSAVED_CLICKS, () => saver.sending());
  onCleanup(() => saver.dispose());
  const previews = createPreviews({
    fetch: (f, signal) => api.preview(pid, f, { maxSide: Math.max(0, frames.maxSide()) }, signal),
    pendingSaves: (f) => saver.pendingOn(f),
    online,
    report,
  });
  const prompts = createPrompts({
    saver,
    refuse: tell,
    repreview: (changed) => {
      previews.dropExcept(changed);
      for (const f of changed) void previews.refresh(f);
    },
  });
  const inout = createInOut(pid, frameCount);
  const results = createResults({ pid, jobs: jobs.jobs, loading: jobs.loading, frame, setFrame });
  const playback = createPlayback({
    frame,
    setFrame,
    range: () => playRange(inout.range(), frameCount(), results.shown()),
    fps: () => video().fps || 25,
    // The frame, the result's matte of it and, in the tint view of several objects, each one's.
    prepare: (i) => {
      const j = results.shown();
      return Promise.all([prepareStep(frames.load(i), j && i >= j.start && i <= j.end ? mattes.load(j.id, i) : null), resultCompose.load(i)]);
    },
    onError: (e) => report(e, "Playback stopped"),
  });
  const frames = createFrameImage({
    video,
    frame,
    stageSize,
    zoom: () => view().zoom,
    playing: playback.playing,
    online,
    images,
    fetchFrame: (i, ms, signal) => api.frame(pid, i, ms || undefined, signal),
    report,
  });
  const mattes = createMatteImage({
    job: results.shown,
    frame,
    maxSide: frames.maxSide,
    online,
    images,
    edge: createEdge(results.shown),
    fetchMatte: (jid, i, ms, edge, signal) => api.alpha(jid, i, ms || undefined, edge, signal),
  });
  // The shown result's object colours, per-object mattes (tint) and composite colour (green screen).
  const resultCompose = createResultCompose({ job: results.shown, frame, objects: objects.list, mode: results.mode, maxSide: frames.maxSide });
  /** A job takes the points the server holds: it starts once the saves under way landed, and
   * not while some are held (the dialog says why). */
  const jobsAfterSaves = {
    ...jobs,
    create: async (body: Parameters<typeof jobs.create>[0]) => {
      await saver.landed();
      const why = notSaved("job");
      if (why) throw new Error(why);
      return jobs.create(body);
    },
  };
  const actions = createActions({ frame, setFrame, frameCount, loaded, objects, prompts, saver, previews, playback, results, track, inout, report: tell, closed: closing.signal });

  const load = async () => {
    try {
      await readObjectsAndPoints();
      setLoaded(true);
      await track.refresh(true);
    } catch (e) {
      report(e, "Could not load the project's objects and points");
    }
  };
  onMount(load);

  // The server is back: send the points it missed, then read what changed while it was away
  // (another tab may have reached it first; a focus while it was away read nothing).
  watchConnection({
    online,
    probe: api.health,
    onBack: () => {
      if (!loaded()) return void load(); // opened while the server was away
      void saver.retry().then(async () => {
        if (pointsOnFrame(prompts.points(), frame()).length) void previews.refresh(frame());
        await readObjectsAndPoints(true).catch((e) => report(e, "Could not read the objects and points"));
      });
      void jobs.refresh();
      void track.refresh(true);
    },
  });

  // Another tab or window may have changed the project while this one was hidden, or, side by
  // side, while the user worked in the other one: shown again or clicked into, it reads what
  // the server holds.
  const onVisible = () => {
    if (document.visibilityState !== "visible" || !online()) return;
    void jobs.refresh();
    // Shown again while the first read is on its way: that read may predate the other tab's
    // change, or straddle it (its objects read after the other tab made one, its points before
    // their save landed: the object listed without its point). It is read anew, the read begun
    // last winning; the project's track is read once it is loaded.
    if (!loaded()) return void load();
    readObjectsAndPoints(true).catch((e) => report(e, "Could not read the objects and points"));
    void track.refresh(true);
  };
  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("focus", onVisible);
  onCleanup(() => {
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener("focus", onVisible);
  });

  // Visiting a prompted frame shows its preview.
  createEffect(
    on([frame, prompts.points, loaded], ([f, map, ok]) => {
      if (!ok || playback.playing()) return;
      const has = pointsOnFrame(map, f).length > 0;
      if (has && !untrack(() => previews.has(f)) && !previews.pending(f)) void previews.refresh(f);
    }),
  );

  actions.bindKeys({
    // Any modal dialog: also one the editor did not open (a sequence's frame rate, the token),
    // whose radios and buttons the arrows, Space and letters are for.
    blocked: () => mattingOpen() || helpOpen() || !!pendingConfirm() || dialogOpen(),
    blockedKey: (e) => helpOpen() && (e.key === "Escape" || e.key === "?") && setHelpOpen(false),
    openMatting: () => setMattingOpen(true),
    openHelp: () => setHelpOpen(true),
    toggleMask: () => setMaskVisible(!maskVisible()),
    zoom: (direction) => {
      const fit = stageFit(stageSize(), results.mode(), video());
      // The stage's centre is the fitted picture's.
      const centre = { x: fit.x + fit.width / 2, y: fit.y + fit.height / 2 };
      setView(zoomAt(clampPan(view()), fit, centre, direction > 0 ? ZOOM_STEP : 1 / ZOOM_STEP));
    },
    zoomFit: () => setView(FIT_VIEW),
    goto: () => setGotoAsked((n) => n + 1),
  });

  return {
    pid,
    video,
    frameCount,
    frame,
    setFrame,
    loaded,
    setStageSize,
    view,
    setView,
    mattingOpen,
    setMattingOpen,
    helpOpen,
    gotoAsked,
    setHelpOpen,
    maskVisible,
    setMaskVisible,
    jobs,
    jobsAfterSaves,
    objects,
    track,
    inout,
    saver,
    unsavedClicks,
    previews,
    prompts,
    results,
    playback,
    frames,
    mattes,
    resultCompose,
    actions,
  };
}

export type EditorState = ReturnType<typeof createEditor>;
