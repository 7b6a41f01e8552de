// Modal dialogs keep the keyboard inside: Tab and Shift+Tab cycle through the dialog's
// controls, focus that lands outside (a click on the page behind) comes back, and closing
// the dialog returns focus to where it was. Only the newest open dialog traps.
import { onCleanup, onMount } from "solid-js";
import { isComposing } from "./keyboard";

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  '[tabindex]:not([tabindex="-1"])',
].join(",");

/** The controls inside `root` that Tab reaches, in document order. */
export function tabStops(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)];
}

const open: HTMLElement[] = [];

/** Whether a modal dialog is open: what happens behind it (e.g. a dropped file) must wait. */
export function dialogOpen(): boolean {
  return open.length > 0;
}

/**
 * Trap focus in the element `root()` returns while the calling component is mounted; focus
 * `initial()` first (the safe choice in a confirmation), else the first control.
 */
export function useFocusTrap(root: () => HTMLElement | undefined, initial?: () => HTMLElement | undefined): void {
  onMount(() => {
    const el = root();
    if (!el) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    open.push(el);
    const top = () => open[open.length - 1] === el;
    const first = () => initial?.() ?? tabStops(el)[0] ?? el;
    if (!el.hasAttribute("tabindex")) el.tabIndex = -1;
    first().focus();

    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Tab" || !top()) return;
      const stops = tabStops(el);
      if (stops.length === 0) {
        e.preventDefault();
        return;
      }
      const active = document.activeElement;
      const inside = active instanceof Node && el.contains(active);
      if (e.shiftKey && (!inside || active === stops[0] || active === el)) {
        e.preventDefault();
        stops[stops.length - 1].focus();
      } else if (!e.shiftKey && (!inside || active === stops[stops.length - 1])) {
        e.preventDefault();
        stops[0].focus();
      }
    };
    const onFocusIn = (e: FocusEvent) => {
      if (top() && e.target instanceof Node && !el.contains(e.target)) first().focus();
    };
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("focusin", onFocusIn);
    onCleanup(() => {
      document.removeEventListener("keydown", onKey, true);
      document.removeEventListener("focusin", onFocusIn);
      open.splice(open.indexOf(el), 1);
      if (before?.isConnected) before.focus();
    });
  });
}

/** Escape runs what `cancel()` returns (an open dialog's cancel; null: none is open) before any
 * other handler sees the key, while the calling component is mounted. An Escape that drops an
 * input method's composition in the dialog's field is the composition's: the dialog stays. */
export function useEscapeCancels(cancel: () => (() => void) | null): void {
  const onKey = (e: KeyboardEvent) => {
    const run = e.key === "Escape" && !isComposing(e) ? cancel() : null;
    if (!run) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    run();
  };
  onMount(() => window.addEventListener("keydown", onKey, true));
  onCleanup(() => window.removeEventListener("keydown", onKey, true));
}
