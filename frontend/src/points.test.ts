import { describe, expect, it } from "vitest";
import {
  UndoStack,
  adjacentPromptedFrame,
  applyBox,
  applyClick,
  boxesOnFrame,
  boxFrom,
  clearFrame,
  framesWithPoints,
  fromFramePoints,
  getPoints,
  hitTest,
  promptedRange,
  reapply,
  removeBox,
  removeObject,
  revert,
  samePoints,
  type PointMap,
} from "./points";
import { near } from "./test/near";

const empty: PointMap = new Map();

describe("point editing", () => {
  it("adds a point with its label to the object on the frame", () => {
    const r = applyClick(empty, 5, 1, { x: 10, y: 20 }, "positive", near({ x: 10, y: 20 }, 8));
    expect(getPoints(r.map, 1, 5)).toEqual([{ x: 10, y: 20, label: "positive" }]);
    expect(r.edit.changes).toEqual([{ objectId: 1, frame: 5, before: [], after: [{ x: 10, y: 20, label: "positive" }] }]);
    expect(getPoints(empty, 1, 5)).toEqual([]); // immutable
  });

  it("clicking near an existing point removes the nearest one instead of adding", () => {
    let m = applyClick(empty, 0, 1, { x: 100, y: 100 }, "positive", near({ x: 100, y: 100 }, 8)).map;
    m = applyClick(m, 0, 1, { x: 110, y: 100 }, "negative", near({ x: 110, y: 100 }, 8)).map;
    m = applyClick(m, 0, 1, { x: 300, y: 300 }, "positive", near({ x: 300, y: 300 }, 8)).map;
    const r = applyClick(m, 0, 1, { x: 107, y: 101 }, "positive", near({ x: 107, y: 101 }, 8));
    expect(r.edit.label).toBe("remove point");
    expect(getPoints(r.map, 1, 0)).toEqual([
      { x: 100, y: 100, label: "positive" },
      { x: 300, y: 300, label: "positive" },
    ]);
  });

  it("removes another object's point when it is the one clicked", () => {
    const m = applyClick(empty, 0, 2, { x: 50, y: 50 }, "positive", near({ x: 50, y: 50 }, 8)).map;
    const r = applyClick(m, 0, 1, { x: 52, y: 51 }, "positive", near({ x: 52, y: 51 }, 8));
    expect(getPoints(r.map, 2, 0)).toEqual([]);
    expect(getPoints(r.map, 1, 0)).toEqual([]);
    expect(r.map.size).toBe(0); // empty lists are dropped
  });

  it("only hits points on the same frame and within the radius", () => {
    const m = applyClick(empty, 3, 1, { x: 50, y: 50 }, "positive", near({ x: 50, y: 50 }, 8)).map;
    expect(hitTest(m, 4, near({ x: 50, y: 50 }, 8))).toBeNull();
    expect(hitTest(m, 3, near({ x: 60, y: 50 }, 8))).toBeNull();
    expect(hitTest(m, 3, near({ x: 55, y: 50 }, 8))).toEqual({ objectId: 1, index: 0 });
  });

  it("prefers the selected object when two points are equally near", () => {
    let m = applyClick(empty, 0, 1, { x: 40, y: 50 }, "positive", near({ x: 40, y: 50 }, 1)).map;
    m = applyClick(m, 0, 2, { x: 60, y: 50 }, "positive", near({ x: 60, y: 50 }, 1)).map;
    expect(hitTest(m, 0, near({ x: 50, y: 50 }, 20), 2)).toEqual({ objectId: 2, index: 0 });
    expect(hitTest(m, 0, near({ x: 50, y: 50 }, 20), 1)).toEqual({ objectId: 1, index: 0 });
  });

  it("clears every object's points on a frame, and only that frame", () => {
    let m = applyClick(empty, 0, 1, { x: 1, y: 1 }, "positive", near({ x: 1, y: 1 }, 1)).map;
    m = applyClick(m, 0, 2, { x: 100, y: 1 }, "negative", near({ x: 100, y: 1 }, 1)).map;
    m = applyClick(m, 7, 1, { x: 5, y: 5 }, "positive", near({ x: 5, y: 5 }, 1)).map;
    const r = clearFrame(m, 0)!;
    expect(r.edit.changes).toHaveLength(2);
    expect(framesWithPoints(r.map)).toEqual([7]);
    expect(clearFrame(r.map, 0)).toBeNull();
  });
});

describe("boxes", () => {
  const click = (m: PointMap, at: { x: number; y: number }) => applyClick(m, 2, 1, at, "positive", near(at, 8)).map;

  it("a box is two corners labelled box before the object's clicks, drawn min corner first", () => {
    const m = click(empty, { x: 40, y: 40 });
    const r = applyBox(m, 2, 1, { x: 60, y: 10 }, { x: 20, y: 50 })!;
    expect(getPoints(r.map, 1, 2)).toEqual([
      { x: 60, y: 10, label: "box" },
      { x: 20, y: 50, label: "box" },
      { x: 40, y: 40, label: "positive" },
    ]);
    expect(r.edit.label).toBe("add box");
    expect(boxesOnFrame(r.map, 2)).toEqual([{ objectId: 1, box: { x0: 20, y0: 10, x1: 60, y1: 50 } }]);
    expect(boxesOnFrame(r.map, 3)).toEqual([]);
  });

  it("a new box replaces the old one, and undo brings the old one back", () => {
    const first = applyBox(empty, 2, 1, { x: 0, y: 0 }, { x: 10, y: 10 })!.map;
    const r = applyBox(first, 2, 1, { x: 5, y: 5 }, { x: 30, y: 30 })!;
    expect(r.edit.label).toBe("replace box");
    expect(getPoints(r.map, 1, 2).filter((p) => p.label === "box")).toHaveLength(2);
    expect(boxesOnFrame(r.map, 2)[0].box).toEqual({ x0: 5, y0: 5, x1: 30, y1: 30 });
    expect(samePoints(revert(r.map, r.edit), first)).toBe(true);
  });

  it("a box under 1 px a side is no box", () => {
    expect(boxFrom({ x: 5, y: 5 }, { x: 5.5, y: 40 })).toBeNull();
    expect(applyBox(empty, 2, 1, { x: 5, y: 5 }, { x: 40, y: 5.9 })).toBeNull();
    expect(boxFrom({ x: 5, y: 5 }, { x: 6, y: 6 })).toEqual({ x0: 5, y0: 5, x1: 6, y1: 6 });
  });

  it("a click on a corner adds a point instead of taking one corner away", () => {
    const m = applyBox(empty, 2, 1, { x: 10, y: 10 }, { x: 50, y: 50 })!.map;
    expect(hitTest(m, 2, near({ x: 10, y: 10 }, 8))).toBeNull();
    const r = applyClick(m, 2, 1, { x: 11, y: 10 }, "negative", near({ x: 11, y: 10 }, 8));
    expect(r.edit.label).toBe("add negative point");
    expect(boxesOnFrame(r.map, 2)).toHaveLength(1);
  });

  it("removing the box keeps the clicks; none to remove is null", () => {
    const m = applyBox(click(empty, { x: 40, y: 40 }), 2, 1, { x: 10, y: 10 }, { x: 50, y: 50 })!.map;
    const r = removeBox(m, 2, 1)!;
    expect(getPoints(r.map, 1, 2)).toEqual([{ x: 40, y: 40, label: "positive" }]);
    expect(r.edit.label).toBe("remove box");
    expect(removeBox(r.map, 2, 1)).toBeNull();
    expect(samePoints(reapply(revert(r.map, r.edit), r.edit), r.map)).toBe(true);
  });
});

describe("undo", () => {
  it("undoes adds, removes and clears in reverse order", () => {
    const undo = new UndoStack();
    let m: PointMap = empty;
    const steps = [
      applyClick(m, 0, 1, { x: 10, y: 10 }, "positive", near({ x: 10, y: 10 }, 5)),
    ];
    m = steps[0].map;
    undo.push(steps[0].edit);
    const add2 = applyClick(m, 0, 1, { x: 50, y: 50 }, "negative", near({ x: 50, y: 50 }, 5));
    m = add2.map;
    undo.push(add2.edit);
    const rm = applyClick(m, 0, 1, { x: 11, y: 10 }, "positive", near({ x: 11, y: 10 }, 5));
    m = rm.map;
    undo.push(rm.edit);
    const cl = clearFrame(m, 0)!;
    m = cl.map;
    undo.push(cl.edit);
    expect(undo.undoSize).toBe(4);

    m = revert(m, undo.undo()!); // un-clear
    expect(getPoints(m, 1, 0)).toEqual([{ x: 50, y: 50, label: "negative" }]);
    m = revert(m, undo.undo()!); // un-remove
    expect(getPoints(m, 1, 0)).toHaveLength(2);
    m = revert(m, undo.undo()!); // un-add negative
    expect(getPoints(m, 1, 0)).toEqual([{ x: 10, y: 10, label: "positive" }]);
    m = revert(m, undo.undo()!);
    expect(m.size).toBe(0);
    expect(undo.undo()).toBeUndefined();
  });

  it("redoes the undone edits in order, until a new edit", () => {
    const history = new UndoStack();
    const add = applyClick(empty, 0, 1, { x: 10, y: 10 }, "positive", near({ x: 10, y: 10 }, 5));
    const cl = clearFrame(add.map, 0)!;
    history.push(add.edit);
    history.push(cl.edit);
    let m = revert(revert(cl.map, history.undo()!), history.undo()!);
    expect(m.size).toBe(0);
    expect([history.undoSize, history.redoSize]).toEqual([0, 2]);

    m = reapply(m, history.redo()!); // the add first
    expect(samePoints(m, add.map)).toBe(true);
    m = reapply(m, history.redo()!); // then the clear
    expect(m.size).toBe(0);
    expect(history.redo()).toBeUndefined();
    expect([history.undoSize, history.redoSize]).toEqual([2, 0]);

    history.undo();
    expect(history.redoSize).toBe(1);
    history.push(applyClick(add.map, 0, 1, { x: 90, y: 90 }, "negative", near({ x: 90, y: 90 }, 5)).edit);
    expect(history.redoSize).toBe(0); // a new edit: the undone clear is gone
    expect(history.redo()).toBeUndefined();
  });

  it("is bounded and forgets deleted objects", () => {
    const undo = new UndoStack(3);
    for (let i = 0; i < 5; i++) undo.push(applyClick(empty, i, i % 2, { x: 0, y: 0 }, "positive", near({ x: 0, y: 0 }, 1)).edit);
    expect(undo.undoSize).toBe(3);
    undo.dropObject(0); // frames 2 and 4 belong to object 0
    expect(undo.undoSize).toBe(1);
    expect(undo.peek()!.changes[0].objectId).toBe(1);
    undo.push({ label: "nothing", changes: [] });
    expect(undo.undoSize).toBe(1);
  });

  it("forgets deleted objects and clears in both directions", () => {
    const history = new UndoStack();
    for (let i = 0; i < 4; i++) history.push(applyClick(empty, i, i % 2, { x: 0, y: 0 }, "positive", near({ x: 0, y: 0 }, 1)).edit);
    history.undo();
    history.undo(); // frames 3 (object 1) and 2 (object 0) wait to be redone
    history.dropObject(0);
    expect([history.undoSize, history.redoSize]).toEqual([1, 1]);
    expect(history.redo()!.changes[0]).toEqual(expect.objectContaining({ objectId: 1, frame: 3 }));
    history.undo();
    history.clear();
    expect([history.undoSize, history.redoSize]).toEqual([0, 0]);
  });
});

describe("ranges", () => {
  const m = fromFramePoints([
    { object_id: 1, frame: 12, points: [{ x: 1, y: 1, label: "positive" }] },
    { object_id: 1, frame: 3, points: [{ x: 1, y: 1, label: "negative" }] },
    { object_id: 2, frame: 40, points: [{ x: 1, y: 1, label: "positive" }] },
    { object_id: 2, frame: 41, points: [] },
  ]);

  it("lists prompted frames, optionally per object", () => {
    expect(framesWithPoints(m)).toEqual([3, 12, 40]);
    expect(framesWithPoints(m, [2])).toEqual([40]);
  });

  it("gives the prompted range", () => {
    expect(promptedRange(m)).toEqual({ start: 3, end: 40 });
    expect(promptedRange(m, [1])).toEqual({ start: 3, end: 12 });
    expect(promptedRange(m, [9])).toBeNull();
  });

  it("finds the previous and next prompted frames", () => {
    expect(adjacentPromptedFrame(m, 12, 1)).toBe(40);
    expect(adjacentPromptedFrame(m, 12, -1)).toBe(3);
    expect(adjacentPromptedFrame(m, 3, -1)).toBeNull();
    expect(adjacentPromptedFrame(m, 50, 1)).toBeNull();
    expect(adjacentPromptedFrame(m, 20, -1)).toBe(12);
  });

  it("drops a deleted object's points", () => {
    expect(framesWithPoints(removeObject(m, 1))).toEqual([40]);
  });
});
