import { createRoot, createSignal } from "solid-js";
import { describe, expect, it, onTestFinished } from "vitest";
import { getPoints, setMaxPointsPerFrame, type Point } from "../points";
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
      onDiskFull: () => {},
    });
    const refused: string[] = [];
    const prompts = createPrompts({ saver, repreview: (f) => repreviewed.push([...f]), refuse: (e, title) => refused.push(`${title}: ${(e as Error).message}`) });
    return { prompts, puts, repreviewed, refused };
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

  it("refuses the point or box past the server's 50 on an object's frame before sending it, and keeps undo and redo as they were", async () => {
    const s = setup();
    setMaxPointsPerFrame(50); // what /api/health said
    onTestFinished(() => setMaxPointsPerFrame(null));
    const at = (k: number) => ({ x: 10 + 20 * (k % 10), y: 10 + 20 * Math.floor(k / 10) });
    for (let k = 0; k < 50; k++) s.prompts.click(4, 1, at(k), "positive", near(at(k), 5));
    s.prompts.undo(); // 49 points, one edit to redo
    s.prompts.click(4, 1, at(60), "negative", near(at(60), 5)); // the 50th: allowed
    s.prompts.undo();
    s.prompts.box(4, 1, { x: 300, y: 300 }, { x: 400, y: 400 }); // 49 clicks and a box's 2 corners: too many
    s.prompts.redo();
    await settle();
    const puts = s.puts.length;
    const sizes = [s.prompts.undoSize(), s.prompts.redoSize()];
    s.prompts.click(4, 1, at(70), "positive", near(at(70), 5)); // the 51st
    await settle();
    expect(getPoints(s.prompts.points(), 1, 4)).toHaveLength(50);
    expect(s.puts).toHaveLength(puts); // nothing sent for the server to refuse
    expect([s.prompts.undoSize(), s.prompts.redoSize()]).toEqual(sizes);
    expect(s.refused).toEqual([
      "Could not draw the box: object 1 would have 51 points on frame 4, and an object holds at most 50 points on a frame: remove some first.",
      "Could not add the point: object 1 would have 51 points on frame 4, and an object holds at most 50 points on a frame: remove some first.",
    ]);
    // Other objects and frames are counted apart, and a click on a point still takes it away.
    s.prompts.click(4, 2, at(70), "positive", near(at(70), 5));
    s.prompts.click(5, 1, at(70), "positive", near(at(70), 5));
    s.prompts.click(4, 1, at(0), "positive", near(at(0), 5));
    expect(getPoints(s.prompts.points(), 1, 4)).toHaveLength(49);
    expect(s.prompts.undo()).toBe(4);
    expect(getPoints(s.prompts.points(), 1, 4)).toHaveLength(50);
    expect(s.refused).toHaveLength(2);
  });

  it("refuses past the limit the server said in /api/health, not the default's", () => {
    const s = setup();
    setMaxPointsPerFrame(2);
    try {
      const at = (k: number) => ({ x: 10 + 20 * k, y: 10 });
      for (let k = 0; k < 3; k++) s.prompts.click(4, 1, at(k), "positive", near(at(k), 5));
      expect(getPoints(s.prompts.points(), 1, 4)).toHaveLength(2);
      expect(s.refused).toEqual([
        "Could not add the point: object 1 would have 3 points on frame 4, and an object holds at most 2 points on a frame: remove some first.",
      ]);
    } finally {
      setMaxPointsPerFrame(null);
    }
  });

  it("refuses nothing before /api/health has said the server's limit: the server, whose limit may be higher, decides", async () => {
    const s = setup();
    const at = (k: number) => ({ x: 10 + 20 * (k % 10), y: 10 + 20 * Math.floor(k / 10) });
    for (let k = 0; k < 51; k++) s.prompts.click(4, 1, at(k), "positive", near(at(k), 5));
    s.prompts.box(4, 1, { x: 300, y: 300 }, { x: 400, y: 400 });
    await settle();
    expect(getPoints(s.prompts.points(), 1, 4)).toHaveLength(53);
    expect(s.puts.at(-1)?.points).toHaveLength(53);
    expect(s.refused).toEqual([]);
  });
});
