import { describe, expect, it } from "vitest";
import { actionForKey, isControlKey, isTypingTarget, SHORTCUTS } from "./keyboard";

describe("shortcuts", () => {
  it("maps frame navigation", () => {
    expect(actionForKey({ key: "ArrowLeft" })).toEqual({ type: "step", delta: -1 });
    expect(actionForKey({ key: "ArrowRight" })).toEqual({ type: "step", delta: 1 });
    expect(actionForKey({ key: "ArrowLeft", shiftKey: true })).toEqual({ type: "step", delta: -10 });
    expect(actionForKey({ key: "ArrowRight", shiftKey: true })).toEqual({ type: "step", delta: 10 });
    expect(actionForKey({ key: "Home" })).toEqual({ type: "first" });
    expect(actionForKey({ key: "End" })).toEqual({ type: "last" });
  });

  it("maps undo with Ctrl or Cmd, not with Shift", () => {
    expect(actionForKey({ key: "z", ctrlKey: true })).toEqual({ type: "undo" });
    expect(actionForKey({ key: "Z", metaKey: true })).toEqual({ type: "undo" });
    expect(actionForKey({ key: "z" })).toBeNull();
  });

  it("maps redo to Ctrl or Cmd with Shift+Z, and to Ctrl or Cmd with Y", () => {
    expect(actionForKey({ key: "Z", ctrlKey: true, shiftKey: true })).toEqual({ type: "redo" });
    expect(actionForKey({ key: "z", metaKey: true, shiftKey: true })).toEqual({ type: "redo" }); // Caps Lock
    expect(actionForKey({ key: "y", ctrlKey: true })).toEqual({ type: "redo" });
    expect(actionForKey({ key: "Y", metaKey: true })).toEqual({ type: "redo" });
    expect(actionForKey({ key: "Z", ctrlKey: true, shiftKey: true, altKey: true })).toBeNull();
    expect(actionForKey({ key: "y" })).toBeNull();
    expect(SHORTCUTS).toContainEqual(["Ctrl + Shift + Z / Ctrl + Y", "redo"]);
  });

  it("maps the rest", () => {
    expect(actionForKey({ key: " " })).toEqual({ type: "play" });
    expect(actionForKey({ key: "k" })).toEqual({ type: "play" }); // as in editing suites' J/K/L
    expect(SHORTCUTS).toContainEqual(["Space or K", "play / pause"]); // the help names both
    expect(actionForKey({ key: "3" })).toEqual({ type: "select-object", index: 2 });
    expect(actionForKey({ key: "Delete" })).toEqual({ type: "clear-frame" });
    expect(actionForKey({ key: "ArrowLeft", altKey: true })).toBeNull();
    expect(actionForKey({ key: "]" })).toEqual({ type: "prompted", direction: 1 });
    expect(actionForKey({ key: "{", shiftKey: true })).toEqual({ type: "flagged", direction: -1 });
    expect(actionForKey({ key: "}", shiftKey: true })).toEqual({ type: "flagged", direction: 1 });
    expect(SHORTCUTS).toContainEqual(["{ / }", "previous / next frame to check (track flags)"]);
    expect(actionForKey({ key: "v" })).toEqual({ type: "toggle-mask" });
    expect(actionForKey({ key: "g" })).toEqual({ type: "goto" });
    expect(actionForKey({ key: "g", ctrlKey: true })).toBeNull(); // the browser's find next
    expect(SHORTCUTS).toContainEqual(["G", "go to a frame number, timecode, +/- frames or an image's own #number (Enter goes, Escape cancels)"]);
  });

  it("zooms with + or = (Shift or not), -, and 0 back to fit; Ctrl with them stays the browser's", () => {
    expect(actionForKey({ key: "+", shiftKey: true })).toEqual({ type: "zoom", direction: 1 });
    expect(actionForKey({ key: "=" })).toEqual({ type: "zoom", direction: 1 });
    expect(actionForKey({ key: "-" })).toEqual({ type: "zoom", direction: -1 });
    expect(actionForKey({ key: "0" })).toEqual({ type: "zoom-fit" });
    expect(actionForKey({ key: "=", ctrlKey: true })).toBeNull();
    expect(actionForKey({ key: "0", ctrlKey: true })).toBeNull();
    expect(SHORTCUTS).toContainEqual(["0", "zoom back to fit"]);
  });

  it("letters mean the same with Caps Lock on; Shift still picks the other direction of C", () => {
    for (const [key, type] of [["N", "new-object"], ["P", "preview"], ["V", "toggle-mask"], ["M", "matting"], ["K", "play"], ["G", "goto"]]) {
      expect(actionForKey({ key }), key).toEqual(expect.objectContaining({ type }));
    }
    expect(actionForKey({ key: "C" })).toEqual({ type: "cycle-overlay", delta: 1 }); // Caps Lock
    expect(actionForKey({ key: "C", shiftKey: true })).toEqual({ type: "cycle-overlay", delta: -1 });
    expect(actionForKey({ key: "c", shiftKey: true })).toEqual({ type: "cycle-overlay", delta: -1 }); // Caps Lock + Shift
    expect(SHORTCUTS).toContainEqual(["C / Shift + C", "next / previous result view"]);
    // Shift with a letter that has no shifted meaning stays nothing, as before
    expect(actionForKey({ key: "N", shiftKey: true })).toBeNull();
    expect(actionForKey({ key: "n", shiftKey: true })).toBeNull();
  });

  it("I / O set In / Out, Shift goes there, Alt+X clears both (Option+X on a Mac types ≈)", () => {
    expect(actionForKey({ key: "i" })).toEqual({ type: "set-mark", mark: "in" });
    expect(actionForKey({ key: "o" })).toEqual({ type: "set-mark", mark: "out" });
    expect(actionForKey({ key: "O" })).toEqual({ type: "set-mark", mark: "out" }); // Caps Lock
    expect(actionForKey({ key: "I", shiftKey: true })).toEqual({ type: "go-mark", mark: "in" });
    expect(actionForKey({ key: "O", shiftKey: true })).toEqual({ type: "go-mark", mark: "out" });
    expect(actionForKey({ key: "x", altKey: true })).toEqual({ type: "clear-in-out" });
    expect(actionForKey({ key: "≈", code: "KeyX", altKey: true })).toEqual({ type: "clear-in-out" });
    expect(actionForKey({ key: "≈", altKey: true })).toEqual({ type: "clear-in-out" });
    expect(actionForKey({ key: "x" })).toBeNull();
    expect(actionForKey({ key: "x", altKey: true, ctrlKey: true })).toBeNull();
    expect(actionForKey({ key: "i", altKey: true })).toBeNull();
    expect(SHORTCUTS).toContainEqual(["Alt + X", "clear In and Out"]);
    expect(SHORTCUTS.map(([k]) => k)).not.toContain("O / Shift + O");
  });

  it("stays out of text fields but not sliders", () => {
    const text = document.createElement("input");
    const range = document.createElement("input");
    range.type = "range";
    expect(isTypingTarget(text)).toBe(true);
    expect(isTypingTarget(range)).toBe(false);
    expect(isTypingTarget(document.createElement("textarea"))).toBe(true);
    expect(isTypingTarget(document.body)).toBe(false);
  });

  it("leaves Space and Enter to the focused control, and other keys to the shortcuts", () => {
    const el = (html: string) => {
      const box = document.createElement("div");
      box.innerHTML = html;
      return box.firstElementChild!;
    };
    const controls = [
      el("<button>Track</button>"),
      el('<input type="checkbox">'),
      el('<input type="radio">'),
      el('<a href="#/">Projects</a>'),
      el("<select></select>"),
      el("<summary>More</summary>"),
      el('<div role="button" tabindex="0">Beach take</div>'),
      el('<div role="checkbox" tabindex="0"></div>'),
      el('<div role="menuitemcheckbox" tabindex="0"></div>'),
      el('<div role="tab" tabindex="0"></div>'),
      el("<button><span>Undo</span></button>").firstElementChild!, // the label inside a button
    ];
    for (const c of controls) {
      expect(isControlKey(" ", c), c.outerHTML).toBe(true);
      expect(isControlKey("Enter", c), c.outerHTML).toBe(true);
      expect(isControlKey("k", c), c.outerHTML).toBe(false);
      expect(isControlKey("ArrowRight", c), c.outerHTML).toBe(false);
    }
    // the seek slider does nothing with Space: there it still plays
    expect(isControlKey(" ", el('<input type="range">'))).toBe(false);
    expect(isControlKey(" ", document.body)).toBe(false);
    expect(isControlKey(" ", el('<div tabindex="0"></div>'))).toBe(false);
    expect(isControlKey(" ", null)).toBe(false);
  });
});
