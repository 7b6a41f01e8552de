// A list whose rows go away under the keyboard focus (a confirmed delete, a project deleted in
// another tab): the browser drops the focus to <body>, and the next Tab would start again from
// the top of the page. The row now in the gone one's place takes the focus instead (on its main
// button: the row itself is a plain container). The same holds for a single control that goes
// with the state it belonged to (a running job's Cancel): a control near it takes the focus.
import { onCleanup, onMount } from "solid-js";

/**
 * While the calling component is mounted: when the row of `list()` that held the focus (or a
 * control in it) is removed and the focus went nowhere else, focus the `main` control of the row
 * now at its place, else of the last row, else `empty()` (the list's add button).
 */
export function useListFocus(list: () => HTMLElement | undefined, rowSelector: string, main: string, empty: () => HTMLElement | undefined): void {
  onMount(() => {
    const el = list();
    if (!el) return;
    const rows = () => [...el.querySelectorAll<HTMLElement>(rowSelector)];
    let held: { row: Element; index: number } | null = null;
    const onFocusIn = (e: FocusEvent) => {
      const row = e.target instanceof Element ? e.target.closest(rowSelector) : null;
      held = row ? { row, index: rows().indexOf(row as HTMLElement) } : null;
    };
    const observer = new MutationObserver(() => {
      if (!held || held.row.isConnected) return;
      const { index } = held;
      held = null;
      const active = document.activeElement;
      if (active && active !== document.body) return; // the user went on elsewhere
      const left = rows();
      const row = left[Math.min(index, left.length - 1)];
      (row ? row.querySelector<HTMLElement>(main) : empty())?.focus();
    });
    el.addEventListener("focusin", onFocusIn);
    observer.observe(el, { childList: true }); // the rows are its children
    onCleanup(() => {
      observer.disconnect();
      el.removeEventListener("focusin", onFocusIn);
    });
  });
}

/**
 * While the calling component is mounted: when the control in `root()` that held the focus is
 * removed (a job's Cancel once the job has ended) and the focus went nowhere else, focus what
 * `next()` returns then (a control near it that is still there).
 */
export function useFocusKept(root: () => HTMLElement | undefined, next: () => HTMLElement | null | undefined): void {
  onMount(() => {
    const el = root();
    if (!el) return;
    let held: Element | null = null;
    const onFocusIn = (e: FocusEvent) => {
      held = e.target instanceof Element ? e.target : null;
    };
    // A press elsewhere (on the page's background: the focus goes to <body>) is the user moving
    // on, even when it closes what held the focus (a download menu): the focus isn't pulled back.
    const onPointer = (e: PointerEvent) => {
      if (held && !(e.target instanceof Node && held.contains(e.target))) held = null;
    };
    const observer = new MutationObserver(() => {
      if (!held || held.isConnected) return;
      held = null;
      const active = document.activeElement;
      if (active && active !== document.body) return; // the user went on elsewhere
      next()?.focus();
    });
    el.addEventListener("focusin", onFocusIn);
    document.addEventListener("pointerdown", onPointer, true);
    observer.observe(el, { childList: true, subtree: true }); // the control may sit deep inside
    onCleanup(() => {
      observer.disconnect();
      el.removeEventListener("focusin", onFocusIn);
      document.removeEventListener("pointerdown", onPointer, true);
    });
  });
}
