// Leaving the page (closing the tab, reloading it, a link out) while work would go with it:
// an upload on its way, points the server does not have yet (a first click too, from the moment
// of the click: its object may still be being made). The browser asks first. Points
// held by the open project's editor go too when another project is opened (the editor, which
// would send them, closes): the app asks first then as well. So does an object's name the
// server did not take (kept in its row to send again): it goes with the editor too.
import { onCleanup } from "solid-js";
import { confirmAction } from "./confirm";

/** While `losing()` holds, the browser asks before the page is left (in the calling scope). */
export function useLeaveGuard(losing: () => boolean): void {
  const onLeave = (e: BeforeUnloadEvent) => {
    if (!losing()) return;
    e.preventDefault();
    e.returnValue = ""; // the way browsers before the standard's asked
  };
  window.addEventListener("beforeunload", onLeave);
  onCleanup(() => window.removeEventListener("beforeunload", onLeave));
}

/** What the app asks before the open project is left while some of its work would be lost. */
export interface LeaveQuestion {
  title: string;
  message: string;
}

export const UNSAVED_CLICKS: LeaveQuestion = {
  title: "Leave with unsaved clicks?",
  message: "Some clicks are not saved yet (the server is away or still making their object, or its disk is full): they are kept only while this project stays open.",
};

export const UNSAVED_OBJECT_NAME: LeaveQuestion = {
  title: "Leave with an unsaved name?",
  message: "An object's new name is not saved yet (the server is away, its disk is full, or it refused the name): it is kept only while this project stays open.",
};

/** The open project's guards, each with its question (mayLeaveProject asks them). */
const projectGuards = new Map<() => boolean, LeaveQuestion>();

/** useLeaveGuard for work of the open project: also asked before another project is opened. */
export function useProjectLeaveGuard(losing: () => boolean, question: LeaveQuestion = UNSAVED_CLICKS): void {
  useLeaveGuard(losing);
  projectGuards.set(losing, question);
  onCleanup(() => projectGuards.delete(losing));
}

/** The question open now: asked again meanwhile (Back fires popstate, then hashchange), it
 * is the same move, and a second dialog would answer the first "stay". */
let asking: Promise<boolean> | null = null;

/** Whether the open project may be left for another: nothing of it would be lost, or the user
 * said to leave all the same. */
export async function mayLeaveProject(): Promise<boolean> {
  if (asking) return asking;
  // One question for each kind of work that would be lost (two unsaved names ask once).
  const lost = [...new Set([...projectGuards].filter(([losing]) => losing()).map(([, q]) => q))];
  if (lost.length === 0) return true;
  const question = lost.length === 1 ? lost[0] : { title: "Leave with unsaved work?", message: lost.map((q) => q.message).join(" ") };
  asking = confirmAction({
    ...question,
    confirmLabel: "Leave",
    danger: true,
  }).finally(() => (asking = null));
  return asking;
}
