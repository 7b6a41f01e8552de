import { createRoot, createSignal } from "solid-js";
import { describe, expect, it } from "vitest";
import { getPoints, type Point } from "../points";
import { createPrompts } from "./prompts";
import { PromptSaver } from "./saving";
import { near } from "../test/near";

function setup() {
  return createRoot(() => {
    const [online] = createSignal(true);
    const puts: { oid: number; frame: number; points: readonly Point[] }[] = [];
    const repreviewed: number[][] = [];
    const saver = new PromptSaver({
      put: async (oid, frame, points) => void puts.push({ oid, frame, points }),
      online,
      onSaved: () => {},
      onRefused: () => {},
    });
    const prompts = createPrompts({ saver, repreview: (f) => repreviewed.push([...f]) });
    return { prompts, puts, repreviewed };
  });
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("prompts", () => {
  it("a click shows the point at once (rounded), saves it and re-previews its frame", async () => {
    const s = setup();
    s.prompts.click(4, 1, { x: 10.26, y: 20.04 }, "positive", near({ x: 10.26, y: 20.04 }, 5));
    expect(getPoints(s.prompts.points(), 1, 4)).toEqual([{ x: 10.3, y: 20, label: "positive" }]);
    expect(s.repreviewed).toEqual([[4]]);
    await settle();
    expect(s.puts).toEqual([{ oid: 1, frame: 4, points: [{ x: 10.3, y: 20, label: "positive" }] }]);
    expect(s.prompts.undoSize()).toBe(1);
  });

  it("undo restores and saves the points before the edit, and says where", async () => {
    const s = setup();
    s.prompts.click(4, 1, { x: 10, y: 20 }, "positive", near({ x: 10, y: 20 }, 5));
    s.prompts.click(4, 1, { x: 50, y: 20 }, "negative", near({ x: 50, y: 20 }, 5));
    expect(s.prompts.undo()).toBe(4);
    expect(getPoints(s.prompts.points(), 1, 4)).toHaveLength(1);
    await settle();
    expect(s.puts.at(-1)?.points).toHaveLength(1);
    expect(s.prompts.undo()).toBe(4);
    expect(s.prompts.undo()).toBeNull(); // nothing left
    expect(s.prompts.undoSize()).toBe(0);
  });

  it("redo re-applies and saves the last undone edit, re-previews and says where", async () => {
    const s = setup();
    s.prompts.click(4, 1, { x: 10, y: 20 }, "positive", near({ x: 10, y: 20 }, 5));
    s.prompts.click(7, 1, { x: 50, y: 20 }, "negative", near({ x: 50, y: 20 }, 5));
    s.prompts.undo();
    s.prompts.undo();
    expect(s.prompts.redoSize()).toBe(2);
    s.repreviewed.length = 0;
    expect(s.prompts.redo()).toBe(4);
    expect(s.prompts.redo()).toBe(7);
    expect(s.prompts.redo()).toBeNull(); // nothing left
    expect(getPoints(s.prompts.points(), 1, 4)).toEqual([{ x: 10, y: 20, label: "positive" }]);
    expect(getPoints(s.prompts.points(), 1, 7)).toEqual([{ x: 50, y: 20, label: "negative" }]);
    expect(s.repreviewed).toEqual([[4], [7]]);
    expect([s.prompts.undoSize(), s.prompts.redoSize()]).toEqual([2, 0]);
    await settle();
    expect(s.puts.slice(-2)).toEqual([
      { oid: 1, frame: 4, points: [{ x: 10, y: 20, label: "positive" }] },
      { oid: 1, frame: 7, points: [{ x: 50, y: 20, label: "negative" }] },
    ]);
  });

  it("a new click or clear after an undo leaves nothing to redo", () => {
    const s = setup();
    s.prompts.click(4, 1, { x: 10, y: 20 }, "positive", near({ x: 10, y: 20 }, 5));
    s.prompts.undo();
    s.prompts.click(4, 1, { x: 50, y: 20 }, "positive", near({ x: 50, y: 20 }, 5));
    expect(s.prompts.redoSize()).toBe(0);
    expect(s.prompts.redo()).toBeNull();
    s.prompts.undo();
    s.prompts.click(4, 1, { x: 50, y: 20 }, "positive", near({ x: 50, y: 20 }, 5));
    expect(s.prompts.clear(4)).toBe(true);
    expect(s.prompts.redoSize()).toBe(0);
  });

  it("the server's points (a reload after a refused save) start a new undo history", async () => {
    const s = setup();
    s.prompts.click(4, 1, { x: 10, y: 20 }, "positive", near({ x: 10, y: 20 }, 5));
    s.prompts.click(4, 1, { x: 50, y: 20 }, "positive", near({ x: 50, y: 20 }, 5));
    s.prompts.undo();
    s.prompts.reset(new Map());
    expect(s.prompts.undoSize()).toBe(0);
    expect(s.prompts.redoSize()).toBe(0);
    expect(s.prompts.undo()).toBeNull(); // the refused edit is not sent again
    expect(s.prompts.redo()).toBeNull();
  });

  it("the server's points read again unchanged (the tab shown again) keep the undo history", async () => {
    const s = setup();
    s.prompts.click(4, 1, { x: 10, y: 20 }, "positive", near({ x: 10, y: 20 }, 5));
    s.prompts.click(4, 1, { x: 50, y: 20 }, "positive", near({ x: 50, y: 20 }, 5));
    s.prompts.undo();
    const shown = s.prompts.points();
    expect(s.prompts.reset(new Map([["1:4", [{ x: 10, y: 20, label: "positive" }]]]))).toBe(false);
    expect(s.prompts.points()).toBe(shown);
    expect([s.prompts.undoSize(), s.prompts.redoSize()]).toEqual([1, 1]);
    expect(s.prompts.reset(new Map([["1:4", [{ x: 10, y: 20, label: "negative" }]]]))).toBe(true); // another tab's edit
    expect([s.prompts.undoSize(), s.prompts.redoSize()]).toEqual([0, 0]);
  });

  it("clears a frame in one undoable edit and says when there is nothing to clear", async () => {
    const s = setup();
    s.prompts.click(2, 1, { x: 10, y: 20 }, "positive", near({ x: 10, y: 20 }, 5));
    s.prompts.click(2, 2, { x: 60, y: 20 }, "positive", near({ x: 60, y: 20 }, 5));
    expect(s.prompts.clear(2)).toBe(true);
    expect(s.prompts.points().size).toBe(0);
    expect(s.prompts.clear(2)).toBe(false);
    s.prompts.undo();
    expect(s.prompts.points().size).toBe(2);
  });

  it("dropping an object removes its points and its undo and redo steps", () => {
    const s = setup();
    s.prompts.click(2, 1, { x: 10, y: 20 }, "positive", near({ x: 10, y: 20 }, 5));
    s.prompts.click(2, 2, { x: 60, y: 20 }, "positive", near({ x: 60, y: 20 }, 5));
    s.prompts.click(3, 1, { x: 10, y: 20 }, "positive", near({ x: 10, y: 20 }, 5));
    s.prompts.click(3, 2, { x: 60, y: 20 }, "positive", near({ x: 60, y: 20 }, 5));
    s.prompts.undo();
    s.prompts.undo();
    s.prompts.dropObject(1);
    expect([...s.prompts.points().keys()]).toEqual(["2:2"]);
    expect([s.prompts.undoSize(), s.prompts.redoSize()]).toEqual([1, 1]);
    expect(s.prompts.redo()).toBe(3);
    expect([...s.prompts.points().keys()]).toEqual(["2:2", "2:3"]);
  });
});
