// The clicked points and boxes of a project and their edits: a click, a box, clearing a frame, undo and redo show
// the new points at once, save them (editor/saving.ts) and re-preview the frames they touch.
import { batch, createSignal, type Accessor } from "solid-js";
import { roundCoord, type Vec } from "../geometry";
import { UndoStack, applyBox, applyClick, clearFrame, overLimit, reapply, removeBox, removeObject, revert, samePoints, type ClickLabel, type Edit, type EditResult, type Near, type PointMap, maxPointsPerFrame } from "../points";
import type { PromptSaver } from "./saving";

export interface PromptDeps {
  saver: PromptSaver;
  /** Re-preview these frames; previews of any other frame are dropped. */
  repreview: (frames: ReadonlySet<number>) => void;
  /** Says why an edit was not made (the server would refuse it). */
  refuse: (error: Error, title: string) => void;
}

export interface Prompts {
  points: Accessor<PointMap>;
  /** Replace every point with the server's (on opening, after a refused save, when the tab is
   * shown again); false when they are the points shown, which then stay, undo history and all. */
  reset: (map: PointMap) => boolean;
  undoSize: Accessor<number>;
  redoSize: Accessor<number>;
  /** A click on `frame` for `objectId` (adds a point, or removes the one `near` it). */
  click: (frame: number, objectId: number, at: Vec, label: ClickLabel, near: Near) => void;
  /** The object's box on `frame` from corner `a` to `b`, in place of its old one. */
  box: (frame: number, objectId: number, a: Vec, b: Vec) => void;
  /** Take the object's box off `frame`. */
  removeBox: (frame: number, objectId: number) => void;
  /** Clear `frame`; false when it holds no points. */
  clear: (frame: number) => boolean;
  /** Undo the last edit; returns its frame, or null when there is nothing to undo. */
  undo: () => number | null;
  /** Redo the last undone edit; returns its frame, or null when there is nothing to redo. */
  redo: () => number | null;
  /** Forget an object (deleted on the server). */
  dropObject: (objectId: number) => void;
}

export function createPrompts(deps: PromptDeps): Prompts {
  const [points, setPoints] = createSignal<PointMap>(new Map());
  const stack = new UndoStack();
  const [undoSize, setUndoSize] = createSignal(0);
  const [redoSize, setRedoSize] = createSignal(0);
  const sizes = () =>
    batch(() => {
      setUndoSize(stack.undoSize);
      setRedoSize(stack.redoSize);
    });

  /** Show the new points at once, save them (in order per object and frame), re-preview. */
  const apply = (map: PointMap, edit: Edit, values: "after" | "before") =>
    batch(() => {
      setPoints(map);
      const frames = new Set<number>();
      for (const c of edit.changes) {
        void deps.saver.save(c.objectId, c.frame, c[values], c[values === "after" ? "before" : "after"]);
        frames.add(c.frame);
      }
      deps.repreview(frames);
    });

  const commit = (map: PointMap, edit: Edit) => {
    stack.push(edit);
    sizes();
    apply(map, edit, "after");
  };
  /** Commit an edit, unless it leaves more points on an object's frame than the server takes:
   * that one is refused here, before it is sent (it never enters the undo history, and a redo
   * waiting stays). */
  const commitUnlessOver = (r: EditResult | null, title: string) => {
    if (!r) return;
    const limit = maxPointsPerFrame();
    const over = overLimit(r.edit, limit);
    if (!over) return commit(r.map, r.edit);
    const text = `object ${over.objectId} would have ${over.after.length} points on frame ${over.frame}, and an object holds at most ${limit} points on a frame: remove some first.`;
    deps.refuse(new Error(text), title);
  };
  const rounded = (at: Vec): Vec => ({ x: roundCoord(at.x), y: roundCoord(at.y) });
  const commitIf = (r: EditResult | null) => r && commit(r.map, r.edit);

  /** Show an undone (`before`) or redone (`after`) edit as any edit is shown; its frame. */
  const replay = (edit: Edit | undefined, values: "after" | "before"): number | null => {
    sizes();
    if (!edit) return null;
    apply(values === "before" ? revert(points(), edit) : reapply(points(), edit), edit, values);
    return edit.changes[0]?.frame ?? null;
  };

  return {
    points,
    // The server's points: earlier edits were made over others, and undoing one would only
    // be refused again.
    reset: (map) => {
      if (samePoints(points(), map)) return false;
      batch(() => {
        setPoints(map);
        stack.clear();
        sizes();
      });
      return true;
    },
    undoSize,
    redoSize,
    click: (frame, objectId, at, label, near) => commitUnlessOver(applyClick(points(), frame, objectId, rounded(at), label, near), "Could not add the point"),
    box: (frame, objectId, a, b) => commitUnlessOver(applyBox(points(), frame, objectId, rounded(a), rounded(b)), "Could not draw the box"),
    removeBox: (frame, objectId) => commitIf(removeBox(points(), frame, objectId)),
    clear: (frame) => {
      const r = clearFrame(points(), frame);
      if (!r) return false;
      commit(r.map, r.edit);
      return true;
    },
    undo: () => replay(stack.undo(), "before"),
    redo: () => replay(stack.redo(), "after"),
    dropObject: (objectId) => {
      setPoints(removeObject(points(), objectId));
      stack.dropObject(objectId);
      sizes();
      deps.saver.dropObject(objectId);
    },
  };
}
