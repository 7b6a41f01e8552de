// Which result is viewed and how (the overlay mode), kept per project in localStorage so a
// reload comes back to the same view. The Prompts view ("off") views no result.
import { batch, createEffect, createSignal, type Accessor } from "solid-js";
import type { Job } from "../api";
import { OVERLAY_MODES, type OverlayMode } from "../compose";

export interface ResultsDeps {
  pid: string;
  jobs: Accessor<Job[]>;
  /** Whether the job list is still loading (the saved view is restored once it is there). */
  loading: Accessor<boolean>;
  frame: Accessor<number>;
  setFrame: (frame: number) => void;
  storage?: Storage | null;
}

export interface SavedView {
  job: string | null;
  mode: OverlayMode;
}

const MODES = OVERLAY_MODES.map((m) => m.id) as OverlayMode[];
export const viewKey = (pid: string) => `vidmatte.view.${pid}`;

/** The saved view of a project, or the Prompts view when none (or garbage) is saved. */
export function readView(storage: Storage | null | undefined, pid: string): SavedView {
  try {
    const v = JSON.parse(storage?.getItem(viewKey(pid)) ?? "null") as Partial<SavedView> | null;
    const mode = MODES.find((m) => m === v?.mode) ?? "off";
    const job = typeof v?.job === "string" && mode !== "off" ? v.job : null;
    return { job, mode: job ? mode : "off" };
  } catch {
    return { job: null, mode: "off" };
  }
}

export function writeView(storage: Storage | null | undefined, pid: string, view: SavedView): void {
  try {
    storage?.setItem(viewKey(pid), JSON.stringify(view));
  } catch {
    /* storage unavailable: the view is just not remembered */
  }
}

/** A result has frames to look at: done, or stopped part-way with frames. */
export const viewable = (j: Job | undefined): j is Job => !!j && (j.status === "done" || j.frames_done > 0);

export interface Results {
  activeJobId: Accessor<string | null>;
  activeJob: () => Job | undefined;
  mode: Accessor<OverlayMode>;
  /** The viewed result when a view shows its matte. */
  shown: () => Job | undefined;
  /** View a result (tint unless a view is chosen), or none (the Prompts view). */
  activate: (jobId: string | null) => void;
  setMode: (mode: OverlayMode) => void;
  /** Next / previous view, Prompts included; leaving Prompts views the last viewed (or first finished) result. */
  cycle: (delta: number) => boolean;
}

export function createResults(deps: ResultsDeps): Results {
  const storage = deps.storage === undefined ? globalThis.localStorage : deps.storage;
  const [activeJobId, setActiveJobId] = createSignal<string | null>(null);
  const [mode, setModeRaw] = createSignal<OverlayMode>("off");
  let lastViewed: string | null = null;
  const byId = (id: string | null) => (id ? deps.jobs().find((j) => j.id === id) : undefined);
  const activeJob = () => byId(activeJobId());

  const show = (id: string | null, m: OverlayMode) => {
    const jid = m === "off" ? null : id;
    batch(() => {
      setActiveJobId(jid);
      setModeRaw(jid ? m : "off");
    });
    if (jid) lastViewed = jid;
    writeView(storage, deps.pid, { job: jid, mode: jid ? m : "off" });
    const j = byId(jid);
    if (j && (deps.frame() < j.start || deps.frame() > j.end)) deps.setFrame(j.start);
  };

  // Once the list is there: back to the view saved before the reload, if its result still is.
  let restored = false;
  createEffect(() => {
    if (restored || deps.loading()) return;
    restored = true;
    const saved = readView(storage, deps.pid);
    if (saved.job && viewable(byId(saved.job))) {
      batch(() => {
        setActiveJobId(saved.job);
        setModeRaw(saved.mode);
      });
      lastViewed = saved.job;
    }
  });

  const activate = (jid: string | null) => show(jid, mode() === "off" ? "tint" : mode());

  return {
    activeJobId,
    activeJob,
    mode,
    shown: () => {
      const j = activeJob();
      return mode() !== "off" && viewable(j) ? j : undefined;
    },
    activate,
    setMode: (m) => {
      if (m === "off") show(null, "off");
      else if (viewable(activeJob())) show(activeJobId(), m);
    },
    cycle: (delta) => {
      // Step through the views in their order whichever way round; the Prompts view is one of
      // them (also where a result that is gone leaves us), so leaving it goes to the view next
      // to it in that direction, not to a fixed one.
      const current = viewable(activeJob()) ? activeJob() : undefined;
      const i = current ? MODES.indexOf(mode()) : 0;
      const m = MODES[(i + delta + MODES.length) % MODES.length];
      if (m === "off") {
        show(null, "off");
        return true;
      }
      const j = current ?? [byId(lastViewed), ...deps.jobs()].find(viewable);
      if (!j) return false;
      show(j.id, m);
      return true;
    },
  };
}
