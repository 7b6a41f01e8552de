// The editor's shortcuts on the window: each key maps to an action (keyboard.ts); nothing
// fires while a dialog is open or the user types in a field, and Space or Enter on a focused
// control activates that control. A held key repeats only what it makes sense to repeat.
import { onCleanup, onMount } from "solid-js";
import { actionForKey, isControlKey, isTypingTarget, repeats, type Action } from "../keyboard";

export interface KeyBinding {
  /** Run one action. */
  run: (action: Action) => void;
  /** A dialog is open: shortcuts are off and `blockedKey` sees the key instead. */
  blocked: () => boolean;
  blockedKey?: (e: KeyboardEvent) => void;
}

/** Handle one key event; returns whether it ran an action. */
export function handleKey(e: KeyboardEvent, b: KeyBinding): boolean {
  if (e.defaultPrevented) return false;
  if (b.blocked()) {
    b.blockedKey?.(e);
    return false;
  }
  if (isTypingTarget(e.target) || isControlKey(e.key, e.target)) return false;
  const action = actionForKey(e);
  if (!action) return false;
  e.preventDefault();
  if (e.repeat && !repeats(action)) return false;
  b.run(action);
  return true;
}

export function bindKeys(b: KeyBinding): void {
  const onKey = (e: KeyboardEvent) => void handleKey(e, b);
  onMount(() => window.addEventListener("keydown", onKey));
  onCleanup(() => window.removeEventListener("keydown", onKey));
}
