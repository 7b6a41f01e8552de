// Editor keyboard shortcuts: a pure mapping from a key event to an action.

export type Action =
  | { type: "step"; delta: number }
  | { type: "first" }
  | { type: "last" }
  | { type: "undo" }
  | { type: "redo" }
  | { type: "play" }
  | { type: "clear-frame" }
  | { type: "preview" }
  | { type: "new-object" }
  | { type: "select-object"; index: number }
  | { type: "cycle-overlay"; delta: number }
  | { type: "matting" }
  | { type: "prompted"; direction: -1 | 1 }
  | { type: "flagged"; direction: -1 | 1 }
  | { type: "toggle-mask" }
  | { type: "zoom"; direction: -1 | 1 }
  | { type: "zoom-fit" }
  | { type: "goto" }
  | { type: "set-mark"; mark: "in" | "out" }
  | { type: "go-mark"; mark: "in" | "out" }
  | { type: "clear-in-out" }
  | { type: "help" };

export interface KeyLike {
  key: string;
  /** The physical key: Option+X on a Mac types "≈", not "x". */
  code?: string;
  shiftKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

export function actionForKey(e: KeyLike): Action | null {
  const mod = e.ctrlKey || e.metaKey;
  if (mod) {
    if (e.altKey) return null;
    const key = e.key.toLowerCase();
    if (key === "z") return { type: e.shiftKey ? "redo" : "undo" };
    if (key === "y" && !e.shiftKey) return { type: "redo" };
    return null;
  }
  // Alt+X clears In and Out, as in Premiere; by the physical key too, for macOS's Option.
  if (e.altKey && !e.shiftKey && (e.code === "KeyX" || e.key.toLowerCase() === "x" || e.key === "≈")) return { type: "clear-in-out" };
  if (e.altKey) return null;
  // Letters by Shift, not by case: Caps Lock on does not change what a key does.
  const letter = /^[a-z]$/i.test(e.key);
  switch (letter ? (e.shiftKey ? e.key.toUpperCase() : e.key.toLowerCase()) : e.key) {
    case "ArrowLeft":
      return { type: "step", delta: e.shiftKey ? -10 : -1 };
    case "ArrowRight":
      return { type: "step", delta: e.shiftKey ? 10 : 1 };
    case "Home":
      return { type: "first" };
    case "End":
      return { type: "last" };
    case " ":
    case "k":
      return { type: "play" };
    case "Delete":
      return { type: "clear-frame" };
    case "p":
      return { type: "preview" };
    case "n":
      return { type: "new-object" };
    case "i":
      return { type: "set-mark", mark: "in" };
    case "o":
      return { type: "set-mark", mark: "out" };
    case "I":
      return { type: "go-mark", mark: "in" };
    case "O":
      return { type: "go-mark", mark: "out" };
    case "c":
      return { type: "cycle-overlay", delta: 1 };
    case "C":
      return { type: "cycle-overlay", delta: -1 };
    case "m":
      return { type: "matting" };
    case "?":
      return { type: "help" };
    case "[":
      return { type: "prompted", direction: -1 };
    case "]":
      return { type: "prompted", direction: 1 };
    case "{":
      return { type: "flagged", direction: -1 };
    case "}":
      return { type: "flagged", direction: 1 };
    case "v":
      return { type: "toggle-mask" };
    case "g":
      return { type: "goto" };
    // "+" is Shift+"=" on many layouts: both zoom in, Shift or not.
    case "+":
    case "=":
      return { type: "zoom", direction: 1 };
    case "-":
      return { type: "zoom", direction: -1 };
    case "0":
      return { type: "zoom-fit" };
  }
  if (/^[1-9]$/.test(e.key)) return { type: "select-object", index: Number(e.key) - 1 };
  return null;
}

/** What a held key repeats: moving through frames, undoing and redoing, zooming. Anything else
 * runs once per press: held, N would make an object every few milliseconds and Space would
 * play and pause in turn. */
const REPEATING: ReadonlySet<Action["type"]> = new Set(["step", "undo", "redo", "zoom", "prompted", "flagged"]);

export function repeats(action: Action): boolean {
  return REPEATING.has(action.type);
}

/** Whether an input method (Japanese, Chinese, Korean) is composing text: Enter and Escape
 * then pick or drop the composition and are not the page's (a browser reports some of those
 * presses only by the key code 229). */
export function isComposing(e: KeyboardEvent): boolean {
  return e.isComposing || e.keyCode === 229;
}

/** Whether a key event comes from a text field (then shortcuts stay out of the way). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target as HTMLInputElement).type;
    // The seek slider and checkboxes don't take typing: keep the shortcuts there.
    return !["range", "checkbox", "radio", "button", "color"].includes(type);
  }
  return false;
}

/** What Space and Enter press, tick, open or follow when it has the focus, and where Delete is
 * not about the frame's points. */
const CONTROLS = [
  "button",
  "a[href]",
  "input",
  "select",
  "textarea",
  "summary",
  ...["button", "link", "checkbox", "radio", "switch", "tab", "option", "menuitem", "menuitemcheckbox", "menuitemradio"].map((r) => `[role=${r}]`),
].join(", ");

/**
 * Whether the key is the focused control's own: Space or Enter on a button, link, checkbox…
 * activates it, as everywhere else, instead of playing. The seek slider has no use for them,
 * so there Space still plays and Delete clears the frame. Delete clears the frame's points only
 * with the focus on the page or the slider: on another control (a Results button) the user is
 * not pointing at the points.
 */
export function isControlKey(key: string, target: EventTarget | null): boolean {
  if (key !== " " && key !== "Enter" && key !== "Delete") return false;
  if (!(target instanceof Element)) return false;
  const control = target.closest(CONTROLS);
  // The seek slider keeps the focus after scrubbing to a frame and has no use for these keys.
  return !!control && !(control instanceof HTMLInputElement && control.type === "range");
}

export const SHORTCUTS: [string, string][] = [
  ["← / →", "previous / next frame"],
  ["Shift + ← / →", "10 frames back / forward"],
  ["Home / End", "first / last frame"],
  ["G", "go to a frame number, timecode, +/- frames or an image's own #number (Enter goes, Escape cancels)"],
  ["I / O", "set In / Out at this frame (Track, Matting and playback keep to In..Out)"],
  ["Shift + I / Shift + O", "go to In / Out"],
  ["Alt + X", "clear In and Out"],
  ["[ / ]", "previous / next frame with points"],
  ["{ / }", "previous / next frame to check (track flags)"],
  ["Space or K", "play / pause"],
  ["Left click", "add positive point"],
  ["Right click / Alt + click", "add negative point"],
  ["Click a point", "remove it"],
  ["Drag on the frame", "draw the object's box on this frame (replaces its box; × on the box removes it)"],
  ["Wheel / pinch on the frame", "zoom in / out about the pointer"],
  ["Middle drag / Shift + drag", "pan the zoomed frame"],
  ["+ / -", "zoom in / out (about the centre)"],
  ["0", "zoom back to fit"],
  ["Tab to the frame, then ← → ↑ ↓", "move the crosshair 10 frame pixels (Shift: 1); Escape leaves"],
  ["Enter / Shift + Enter on the frame", "add a positive / negative point at the crosshair (on a point: remove it)"],
  ["B on the frame, B again", "a box from the first crosshair position to the second"],
  ["Ctrl + Z", "undo"],
  ["Ctrl + Shift + Z / Ctrl + Y", "redo"],
  ["Delete", "clear the points of this frame (with no control focused)"],
  ["Delete on a project or object", "delete it (asks first)"],
  ["P", "preview this frame"],
  ["V", "show / hide the mask preview"],
  ["N", "new object"],
  ["1 – 9", "select object"],
  ["C / Shift + C", "next / previous result view"],
  ["M", "open Matting"],
  ["?", "this help"],
];

/** Delete on a row of a list (a project, an object), on its main button or on any control in
 * it, means the row's own delete (which asks first), as in a file list: never the editor's
 * "clear this frame", whose points the focused row is not. Enter and Space stay the focused
 * button's: the row's main button selects the row. */
export function rowDeleteKey(e: KeyboardEvent, remove: () => void): void {
  if (e.key === "Delete" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
    e.preventDefault();
    remove();
  }
}
