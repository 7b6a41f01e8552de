// Click prompts: pure editing functions over an immutable map
// "objectId:frame" → points, plus the undo and redo stacks of edits.
import type { Vec } from "./geometry";

export type Label = "positive" | "negative";

export interface Point {
  x: number;
  y: number;
  label: Label;
}

export interface FramePointsLike {
  object_id: number;
  frame: number;
  points: Point[];
}

export type PointMap = ReadonlyMap<string, readonly Point[]>;

export function pointKey(objectId: number, frame: number): string {
  return `${objectId}:${frame}`;
}

export function parseKey(key: string): { objectId: number; frame: number } {
  const [o, f] = key.split(":");
  return { objectId: Number(o), frame: Number(f) };
}

export function fromFramePoints(list: readonly FramePointsLike[]): PointMap {
  const map = new Map<string, readonly Point[]>();
  for (const fp of list) {
    if (fp.points.length > 0) map.set(pointKey(fp.object_id, fp.frame), fp.points.map((p) => ({ ...p })));
  }
  return map;
}

/** Whether two maps hold the same points, in the same order, under the same keys. */
export function samePoints(a: PointMap, b: PointMap): boolean {
  if (a.size !== b.size) return false;
  for (const [key, pa] of a) {
    const pb = b.get(key);
    if (!pb || pb.length !== pa.length) return false;
    if (pa.some((p, i) => p.x !== pb[i].x || p.y !== pb[i].y || p.label !== pb[i].label)) return false;
  }
  return true;
}

export function getPoints(map: PointMap, objectId: number, frame: number): readonly Point[] {
  return map.get(pointKey(objectId, frame)) ?? [];
}

/** New map with the points of (objectId, frame) replaced; empty lists are dropped. */
export function setPoints(map: PointMap, objectId: number, frame: number, points: readonly Point[]): PointMap {
  const next = new Map(map);
  const key = pointKey(objectId, frame);
  if (points.length === 0) next.delete(key);
  else next.set(key, points);
  return next;
}

/** Everything on one frame, for drawing and hit testing. */
export function pointsOnFrame(map: PointMap, frame: number): { objectId: number; index: number; point: Point }[] {
  const out: { objectId: number; index: number; point: Point }[] = [];
  for (const [key, pts] of map) {
    const k = parseKey(key);
    if (k.frame !== frame) continue;
    pts.forEach((point, index) => out.push({ objectId: k.objectId, index, point }));
  }
  return out;
}

/** How far a point is from a click, and how far still counts as on it. The stage measures on
 * screen, as its hover does, so a click removes exactly the point the hover marks. */
export interface Near {
  distance: (p: Vec) => number;
  radius: number;
}

/**
 * The point on `frame` nearest to the click within `near.radius`, of any object, preferring
 * `preferObject` when two are equally near. Null when none is that close.
 */
export function hitTest(map: PointMap, frame: number, near: Near, preferObject?: number): { objectId: number; index: number } | null {
  let best: { objectId: number; index: number; d: number } | null = null;
  for (const c of pointsOnFrame(map, frame)) {
    const d = near.distance(c.point);
    if (d > near.radius) continue;
    const better =
      !best || d < best.d - 1e-9 || (Math.abs(d - best.d) <= 1e-9 && c.objectId === preferObject);
    if (better) best = { objectId: c.objectId, index: c.index, d };
  }
  return best ? { objectId: best.objectId, index: best.index } : null;
}

/** One change of one (object, frame) list: what it was and what it became. */
export interface Change {
  objectId: number;
  frame: number;
  before: readonly Point[];
  after: readonly Point[];
}

/** A user action; undo restores every `before`, redo every `after`. */
export interface Edit {
  label: string;
  changes: Change[];
}

export interface EditResult {
  map: PointMap;
  edit: Edit;
}

/**
 * A click on the frame at `at`: removes the nearest existing point `near` it (any object),
 * otherwise adds a point with `label` to `objectId`.
 */
export function applyClick(map: PointMap, frame: number, objectId: number, at: Vec, label: Label, near: Near): EditResult {
  const hit = hitTest(map, frame, near, objectId);
  if (hit) {
    const before = getPoints(map, hit.objectId, frame);
    const after = before.filter((_, i) => i !== hit.index);
    return {
      map: setPoints(map, hit.objectId, frame, after),
      edit: { label: "remove point", changes: [{ objectId: hit.objectId, frame, before, after }] },
    };
  }
  const before = getPoints(map, objectId, frame);
  const after = [...before, { x: at.x, y: at.y, label }];
  return {
    map: setPoints(map, objectId, frame, after),
    edit: { label: `add ${label} point`, changes: [{ objectId, frame, before, after }] },
  };
}

/** Remove every point on `frame` (all objects, or only `objectId`). Null when nothing to clear. */
export function clearFrame(map: PointMap, frame: number, objectId?: number): EditResult | null {
  const changes: Change[] = [];
  let next = map;
  for (const [key, pts] of map) {
    const k = parseKey(key);
    if (k.frame !== frame || (objectId !== undefined && k.objectId !== objectId)) continue;
    changes.push({ objectId: k.objectId, frame, before: pts, after: [] });
    next = setPoints(next, k.objectId, frame, []);
  }
  return changes.length ? { map: next, edit: { label: "clear frame", changes } } : null;
}

/** Apply the inverse of `edit`. */
export function revert(map: PointMap, edit: Edit): PointMap {
  let next = map;
  for (const c of [...edit.changes].reverse()) next = setPoints(next, c.objectId, c.frame, c.before);
  return next;
}

/** Apply `edit` again (redo). */
export function reapply(map: PointMap, edit: Edit): PointMap {
  let next = map;
  for (const c of edit.changes) next = setPoints(next, c.objectId, c.frame, c.after);
  return next;
}

/** Drop every point of an object (it was deleted). */
export function removeObject(map: PointMap, objectId: number): PointMap {
  const next = new Map(map);
  for (const key of map.keys()) if (parseKey(key).objectId === objectId) next.delete(key);
  return next;
}

/** Sorted frames holding at least one point (of the given objects, or any). */
export function framesWithPoints(map: PointMap, objectIds?: readonly number[]): number[] {
  const frames = new Set<number>();
  for (const [key, pts] of map) {
    const k = parseKey(key);
    if (pts.length && (!objectIds || objectIds.includes(k.objectId))) frames.add(k.frame);
  }
  return [...frames].sort((a, b) => a - b);
}

/** The prompted range: min..max frame holding points, or null when there are none. */
export function promptedRange(map: PointMap, objectIds?: readonly number[]): { start: number; end: number } | null {
  const frames = framesWithPoints(map, objectIds);
  return frames.length ? { start: frames[0], end: frames[frames.length - 1] } : null;
}

/** Bounded undo stack of edits, and the undone ones waiting to be redone until a new edit. */
export class UndoStack {
  private done: Edit[] = [];
  private undone: Edit[] = [];
  constructor(private readonly limit = 200) {}

  /** A new edit: what was undone can no longer be redone over it. */
  push(edit: Edit): void {
    if (edit.changes.length === 0) return;
    this.record(edit);
    this.undone = [];
  }

  /** The edit to revert, kept for redo. */
  undo(): Edit | undefined {
    const edit = this.done.pop();
    if (edit) this.undone.push(edit);
    return edit;
  }

  /** The edit to apply again, kept for undo. */
  redo(): Edit | undefined {
    const edit = this.undone.pop();
    if (edit) this.record(edit);
    return edit;
  }

  peek(): Edit | undefined {
    return this.done[this.done.length - 1];
  }

  get undoSize(): number {
    return this.done.length;
  }

  get redoSize(): number {
    return this.undone.length;
  }

  /** Forget changes to a deleted object; edits left empty disappear. */
  dropObject(objectId: number): void {
    const keep = (edits: Edit[]) =>
      edits.map((e) => ({ ...e, changes: e.changes.filter((c) => c.objectId !== objectId) })).filter((e) => e.changes.length > 0);
    this.done = keep(this.done);
    this.undone = keep(this.undone);
  }

  clear(): void {
    this.done = [];
    this.undone = [];
  }

  private record(edit: Edit): void {
    this.done.push(edit);
    if (this.done.length > this.limit) this.done.splice(0, this.done.length - this.limit);
  }
}

/** The nearest frame holding points strictly before (-1) or after (+1) `frame`, or null. */
export function adjacentPromptedFrame(map: PointMap, frame: number, direction: -1 | 1): number | null {
  return adjacentFrame(framesWithPoints(map), frame, direction);
}

/** The nearest of `frames` (in any order) after (`direction` 1) or before (-1) `frame`, or null. */
export function adjacentFrame(frames: readonly number[], frame: number, direction: -1 | 1): number | null {
  const ahead = frames.filter((f) => (f - frame) * direction > 0);
  return ahead.length ? (direction > 0 ? Math.min(...ahead) : Math.max(...ahead)) : null;
}
