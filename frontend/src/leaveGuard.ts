// Leaving the page (closing the tab, reloading it, a link out) while work would go with it:
// an upload on its way, points the server does not have yet. The browser asks first.
import { onCleanup } from "solid-js";

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
