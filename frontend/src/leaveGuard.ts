// Leaving the page (closing the tab, reloading it, a link out) while work would go with it:
// an upload on its way, points the server does not have yet (a first click too, from the moment
// of the click: its object may still be being made). The browser asks first. Points
// held by the open project's editor go too when another project is opened (the editor, which
// would send them, closes): the app asks first then as well.
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

/** The open project's guards (mayLeaveProject asks them). */
const projectGuards = new Set<() => boolean>();

/** useLeaveGuard for work of the open project: also asked before another project is opened. */
export function useProjectLeaveGuard(losing: () => boolean): void {
  useLeaveGuard(losing);
  projectGuards.add(losing);
  onCleanup(() => projectGuards.delete(losing));
}

/** The question open now: asked again meanwhile (Back fires popstate, then hashchange), it
 * is the same move, and a second dialog would answer the first "stay". */
let asking: Promise<boolean> | null = null;

/** Whether the open project may be left for another: nothing of it would be lost, or the user
 * said to leave all the same. */
export async function mayLeaveProject(): Promise<boolean> {
  if (asking) return asking;
  if (![...projectGuards].some((losing) => losing())) return true;
  asking = confirmAction({
    title: "Leave with unsaved clicks?",
    message: "Some clicks are not saved yet (the server is away or still making their object, or its disk is full): they are kept only while this project stays open.",
    confirmLabel: "Leave",
    danger: true,
  }).finally(() => (asking = null));
  return asking;
}
