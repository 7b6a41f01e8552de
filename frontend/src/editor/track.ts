// The project's track in the editor: read at start when the project has one (followed while it
// runs), started and cancelled from the toolbar, re-read after each save (is it stale now?).
import { batch, createSignal, onCleanup, type Accessor } from "solid-js";
import { api, ApiError, recheckProject } from "../api";
import { followTrack, hasMask, trackApi, trackMaskUrl, type Track } from "../track";

export type TrackApi = typeof trackApi;

export interface TrackState {
  track: Accessor<Track | null>;
  /** A start is on its way (saves, then the server's answer): Track can't be pressed again. */
  starting: Accessor<boolean>;
  /** Read the track again (when the project has one); follow it when `followRunning` and it runs. */
  refresh: (followRunning?: boolean) => Promise<void>;
  start: (start: number, end: number) => Promise<void>;
  cancel: () => Promise<void>;
  /** The tracked mask's URL on `frame`, or null when it has none. */
  overlay: (frame: number) => string | null;
}

export interface TrackDeps {
  server?: TrackApi;
  follow?: typeof followTrack;
  /** Settles once the server holds the points a track must take (the saves under way). */
  ready?: () => Promise<unknown>;
  /** Why the server lacks some of the user's clicks once `ready` settled (held while it is
   * away, its disk full, their object not made yet), or null when it has them all. */
  notSaved?: () => string | null;
  /** Says why a start was refused; also while the server is away (the user pressed Track). */
  refuse?: (text: string) => void;
  /** Whether the server holds a track of the project, as the project reads now (the project
   * list may be older than a track started since). */
  recorded?: () => Promise<boolean>;
}

/** Whether project `pid` has a track, as it reads now; a project deleted meanwhile has none
 * (its 404 has already flagged it gone, which the view says). */
function projectHasTrack(pid: string): Promise<boolean> {
  return api.getProject(pid).then(
    (p) => p.has_track,
    (e: unknown) => {
      if (e instanceof ApiError && e.status === 404) return false;
      throw e;
    },
  );
}

export function createTrackState(
  pid: string,
  report: (error: unknown, title: string) => void,
  {
    server = trackApi,
    follow = followTrack,
    ready = async () => {},
    recorded = () => projectHasTrack(pid),
    notSaved = () => null,
    refuse = (text) => report(new Error(text), "Track not started"),
  }: TrackDeps = {},
): TrackState {
  const [track, setTrack] = createSignal<Track | null>(null);
  const [starting, setStarting] = createSignal(false);
  let startingNow: Promise<void> | null = null;
  const [version, setVersion] = createSignal(0); // a new run's masks load anew
  let stopFollowing: (() => void) | null = null;
  let disposed = false;
  onCleanup(() => {
    disposed = true;
    stopFollowing?.();
  });

  // Reads answer in any order, and the events go on meanwhile: a read's answer may be older
  // than what is shown (a running track that has ended since, which nothing would follow
  // again). Each read and each thing shown takes a number; a read shows its answer only when
  // nothing asked after it was shown first.
  let asked = 0;
  let shownFrom = 0;
  const show = (t: Track | null, from = ++asked) => {
    shownFrom = from;
    const was = track();
    // A finished run's masks, a track that lost an object (deleted) and one over another
    // range (In/Out) load anew.
    const ended = t?.status !== "running" && was?.status === "running";
    const moved = !!t && !!was && (t.start !== was.start || t.end !== was.end);
    // One change: the overlay never asks the new version of a frame the new track has no mask on.
    batch(() => {
      if (t && was && (ended || moved || t.object_ids.join() !== was.object_ids.join())) setVersion((v) => v + 1);
      setTrack(t);
    });
  };
  // The server ends a deleted project's track as cancelled (and then has none): a followed
  // track that ends so may mean the project was deleted elsewhere, which the editor then shows.
  // This editor's own cancel stops following first, so it never lands here.
  const followed = (t: Track | null) => {
    show(t);
    if (t === null || t.status === "cancelled") void recheckProject(pid);
  };
  const followIt = () => {
    stopFollowing?.();
    stopFollowing = follow(pid, followed, (m) => report(new Error(m), "Tracking"));
  };

  return {
    track,
    starting,
    refresh: async (followRunning = false) => {
      const mine = ++asked;
      try {
        // Nothing of a project left is read (a refresh asked by an answer that came after):
        // an object's delete answered after Leave would read its track again, for nothing.
        if (disposed) return;
        // A project never tracked has no track to read: asking would be a 404, which the
        // browser logs as a failed request.
        if (!track() && !(await recorded())) return;
        if (disposed) return;
        const t = await server.get(pid);
        if (disposed || mine < shownFrom) return;
        show(t, mine);
        if (followRunning && t?.status === "running") followIt();
      } catch (e) {
        report(e, "Could not read the track");
      }
    },
    // One start at a time: a double click must not ask the server for two runs.
    start: (start, end) => {
      startingNow ??= (async () => {
        setStarting(true);
        try {
          await ready();
          // A track run without the user's newest clicks would look done and be wrong: it
          // starts only on all of them (a click made after, while it runs, marks it stale).
          const why = notSaved();
          if (why) return refuse(why);
          setVersion((v) => v + 1);
          show(await server.start(pid, start, end));
          followIt();
        } catch (e) {
          report(e, "Could not start tracking");
        } finally {
          startingNow = null;
          setStarting(false);
        }
      })();
      return startingNow;
    },
    cancel: async () => {
      try {
        stopFollowing?.();
        show(await server.cancel(pid));
      } catch (e) {
        report(e, "Could not cancel tracking");
      }
    },
    overlay: (frame) => (hasMask(track(), frame) ? trackMaskUrl(pid, frame, version()) : null),
  };
}
