import { describe, expect, it, vi } from "vitest";
import type { Action } from "../keyboard";
import { handleKey } from "./keys";

const key = (k: string, init: KeyboardEventInit = {}, target?: EventTarget) => {
  const e = new KeyboardEvent("keydown", { key: k, cancelable: true, ...init });
  if (target) Object.defineProperty(e, "target", { value: target });
  return e;
};

describe("editor keys", () => {
  it("runs the action of a key and keeps the browser from acting on it", () => {
    const run = vi.fn<(a: Action) => void>();
    const e = key("ArrowRight", { shiftKey: true });
    expect(handleKey(e, { run, blocked: () => false })).toBe(true);
    expect(run).toHaveBeenCalledWith({ type: "step", delta: 10 });
    expect(e.defaultPrevented).toBe(true);
  });

  it("does nothing while a dialog is open, but lets the dialog see the key", () => {
    const run = vi.fn();
    const blockedKey = vi.fn();
    expect(handleKey(key("Escape"), { run, blocked: () => true, blockedKey })).toBe(false);
    expect(run).not.toHaveBeenCalled();
    expect(blockedKey).toHaveBeenCalledOnce();
  });

  it("leaves typing in a text field alone, and keys without an action", () => {
    const run = vi.fn();
    const input = document.createElement("input");
    expect(handleKey(key("n", {}, input), { run, blocked: () => false })).toBe(false);
    expect(handleKey(key("x"), { run, blocked: () => false })).toBe(false);
    expect(run).not.toHaveBeenCalled();
  });

  it("a held key repeats stepping, undo and zoom, but makes one object and plays or pauses once", () => {
    const run = vi.fn<(a: Action) => void>();
    const b = { run, blocked: () => false };
    for (const k of ["n", " ", "m", "c", "i", "Delete"]) {
      const held = key(k, { repeat: true });
      expect(handleKey(held, b)).toBe(false);
      expect(held.defaultPrevented).toBe(true); // nor does the page scroll (Space) meanwhile
    }
    expect(run).not.toHaveBeenCalled();
    expect(handleKey(key("ArrowRight", { repeat: true }), b)).toBe(true);
    expect(handleKey(key("z", { repeat: true, ctrlKey: true }), b)).toBe(true);
    expect(handleKey(key("+", { repeat: true }), b)).toBe(true);
    expect(handleKey(key("n"), b)).toBe(true);
    expect(run.mock.calls.map(([a]) => a.type)).toEqual(["step", "undo", "zoom", "new-object"]);
  });

  it("Space on a focused button or checkbox is theirs (press, tick), not play; arrows still step", () => {
    const run = vi.fn<(a: Action) => void>();
    const b = { run, blocked: () => false };
    const checkbox = document.createElement("input");
    checkbox.type = "checkbox";
    const button = document.createElement("button");
    const item = document.createElement("div");
    item.setAttribute("role", "button");
    for (const target of [checkbox, button, item]) {
      const space = key(" ", {}, target);
      expect(handleKey(space, b)).toBe(false);
      expect(space.defaultPrevented).toBe(false);
    }
    expect(run).not.toHaveBeenCalled();
    expect(handleKey(key("ArrowRight", {}, button), b)).toBe(true);
    expect(handleKey(key(" ", {}, document.body), b)).toBe(true);
    expect(run.mock.calls).toEqual([[{ type: "step", delta: 1 }], [{ type: "play" }]]);
  });

  it("Delete clears the frame's points with the focus on the page or the seek slider, never on another focused control", () => {
    const run = vi.fn<(a: Action) => void>();
    const b = { run, blocked: () => false };
    const slider = document.createElement("input");
    slider.type = "range";
    const radio = document.createElement("div");
    radio.setAttribute("role", "radio");
    for (const target of [document.createElement("button"), radio]) {
      const del = key("Delete", {}, target);
      expect(handleKey(del, b), target.outerHTML).toBe(false);
      expect(del.defaultPrevented).toBe(false);
    }
    expect(run).not.toHaveBeenCalled();
    // The slider keeps the focus after scrubbing to a frame, and has no use for Delete itself.
    expect(handleKey(key("Delete", {}, slider), b)).toBe(true);
    expect(handleKey(key("Delete", {}, document.body), b)).toBe(true);
    expect(run.mock.calls).toEqual([[{ type: "clear-frame" }], [{ type: "clear-frame" }]]);
  });
});
