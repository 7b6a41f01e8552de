// Leaving the page (closing the tab, reloading it, a link out) while work would go with it:
// an upload on its way, points the server does not have yet (a first click too, from the moment
// of the click: its object may still be being made). The browser asks first. Points
// held by the open project's editor go too when another project is opened (the editor, which
// would send them, closes): the app asks first then as well. So does an object's name on its
// way to the server or not taken by it (kept in its row to send again): it goes with the editor
// too. Before another project is opened, work on its way (a name being sent, points being
// saved) is waited for a moment: taken, nothing is asked; refused, it is kept in the editor,
// and asked about. The page's end cannot wait: the browser asks while a name is on its way
// (points on the wire are not asked about: the server has them, saving.ts).
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
  message: "An object's new name is not saved yet (the server has not answered, is away, its disk is full, or it refused the name): it is kept only while this project stays open.",
};

/** How long leaving the project waits for work on its way (a name, points) to be answered
 * before it asks: long enough for a server that answers, not so long that a click on another
 * project seems lost when the server does not. */
export const LEAVE_WAIT_MS = 2000;

interface ProjectGuard {
  question: LeaveQuestion;
  /** Resolves once the work on its way now is answered; undefined when none is. */
  answered?: () => Promise<unknown> | undefined;
}

/** The open project's guards by their `losing` (mayLeaveProject asks them). */
const projectGuards = new Map<() => boolean, ProjectGuard>();

/** useLeaveGuard for work of the open project: also asked before another project is opened.
 * `answered`: work on its way that may yet be saved (see ProjectGuard), waited for first. */
export function useProjectLeaveGuard(losing: () => boolean, question: LeaveQuestion = UNSAVED_CLICKS, answered?: () => Promise<unknown> | undefined): void {
  useLeaveGuard(losing);
  projectGuards.set(losing, { question, answered });
  onCleanup(() => projectGuards.delete(losing));
}

/** Waits until every promise settled, or `ms` passed. */
async function settledWithin(waits: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((wake) => (timer = setTimeout(wake, ms)));
  await Promise.race([Promise.allSettled(waits), late]);
  clearTimeout(timer);
}

/** The question open now (or waiting for work on its way first): asked again meanwhile (Back
 * fires popstate, then hashchange), it is the same move, and a second dialog would answer the
 * first "stay". */
let asking: Promise<boolean> | null = null;

/** Whether the open project may be left for another: nothing of it would be lost, or the user
 * said to leave all the same. */
export function mayLeaveProject(): Promise<boolean> {
  asking ??= askToLeave().finally(() => (asking = null));
  return asking;
}

async function askToLeave(): Promise<boolean> {
  const onItsWay = [...projectGuards.values()].flatMap((g) => g.answered?.() ?? []);
  // Not awaited when nothing is on its way: the question is open at once.
  if (onItsWay.length) await settledWithin(onItsWay, LEAVE_WAIT_MS);
  // One question for each kind of work that would be lost (two unsaved names ask once).
  const lost = [...new Set([...projectGuards].filter(([losing]) => losing()).map(([, g]) => g.question))];
  if (lost.length === 0) return true;
  const question = lost.length === 1 ? lost[0] : { title: "Leave with unsaved work?", message: lost.map((q) => q.message).join(" ") };
  return confirmAction({
    ...question,
    confirmLabel: "Leave",
    danger: true,
  });
}
