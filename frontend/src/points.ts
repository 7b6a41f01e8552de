// Click and box prompts: pure editing functions over an immutable map
// "objectId:frame" → points, plus the undo and redo stacks of edits. An object's box on a frame
// is two of its points, opposite corners labelled "box" (as the API stores it), so saving,
// undo and redo treat it as they treat clicks.
import type { Vec } from "./geometry";

export type Label = "positive" | "negative" | "box";
/** What a click adds: a box is drawn, not clicked. */
export type ClickLabel = Exclude<Label, "box">;

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

/** Everything on one frame, box corners included. */
export function pointsOnFrame(map: PointMap, frame: number): { objectId: number; index: number; point: Point }[] {
  const out: { objectId: number; index: number; point: Point }[] = [];
  for (const [key, pts] of map) {
    const k = parseKey(key);
    if (k.frame !== frame) continue;
    pts.forEach((point, index) => out.push({ objectId: k.objectId, index, point }));
  }
  return out;
}

/** The clicks on one frame, for drawing and hit testing (a box's corners are drawn as its box,
 * and a click near one must not take it away alone). */
export function clicksOnFrame(map: PointMap, frame: number): { objectId: number; index: number; point: Point }[] {
  return pointsOnFrame(map, frame).filter((c) => c.point.label !== "box");
}

/** A box as drawn and sent: its left, top, right and bottom in stored pixels. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The box two corners span, or null when it is under 1 px a side (the API refuses it). */
export function boxFrom(a: Vec, b: Vec): Box | null {
  const box = { x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y) };
  return box.x1 - box.x0 >= 1 && box.y1 - box.y0 >= 1 ? box : null;
}

/** The box among an object's points on a frame, or null. */
export function boxOf(points: readonly Point[]): Box | null {
  const corners = points.filter((p) => p.label === "box");
  return corners.length === 2 ? boxFrom(corners[0], corners[1]) : null;
}

/** Every object's box on one frame. */
export function boxesOnFrame(map: PointMap, frame: number): { objectId: number; box: Box }[] {
  const out: { objectId: number; box: Box }[] = [];
  for (const [key, pts] of map) {
    const k = parseKey(key);
    const box = k.frame === frame ? boxOf(pts) : null;
    if (box) out.push({ objectId: k.objectId, box });
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
  for (const c of clicksOnFrame(map, frame)) {
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
export function applyClick(map: PointMap, frame: number, objectId: number, at: Vec, label: ClickLabel, near: Near): EditResult {
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

/** The object's box on `frame` from corner `a` to `b`, in place of its old one; its clicks stay.
 * Null for a box under 1 px a side. */
export function applyBox(map: PointMap, frame: number, objectId: number, a: Vec, b: Vec): EditResult | null {
  if (!boxFrom(a, b)) return null;
  const before = getPoints(map, objectId, frame);
  const corners: Point[] = [
    { x: a.x, y: a.y, label: "box" },
    { x: b.x, y: b.y, label: "box" },
  ];
  const after = [...corners, ...before.filter((p) => p.label !== "box")];
  const edit = { label: boxOf(before) ? "replace box" : "add box", changes: [{ objectId, frame, before, after }] };
  return { map: setPoints(map, objectId, frame, after), edit };
}

/** Take the object's box off `frame`, its clicks stay. Null when it has none there. */
export function removeBox(map: PointMap, frame: number, objectId: number): EditResult | null {
  const before = getPoints(map, objectId, frame);
  if (!before.some((p) => p.label === "box")) return null;
  const after = before.filter((p) => p.label !== "box");
  return { map: setPoints(map, objectId, frame, after), edit: { label: "remove box", changes: [{ objectId, frame, before, after }] } };
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

/** The most points (box corners included) an object may hold on a frame: the server's own
 * limit (VIDMATTE_MAX_POINTS_PER_FRAME), which refuses more. Null until /api/health has told
 * the server's setting (`setMaxPointsPerFrame`): a default in its place refused points a
 * server set higher would take, and let through ones one set lower refuses. */
let pointLimit: number | null = null;
export const maxPointsPerFrame = (): number | null => pointLimit;
export function setMaxPointsPerFrame(limit: number | null): void {
  pointLimit = limit;
}

/** The change of `edit` that leaves an object's frame with more than `limit` points, and more
 * than it had (a removal, or a box in place of another, is never refused); null when none does,
 * or the limit is not known yet (the server refuses a save past it, and its points come back). */
export function overLimit(edit: Edit, limit = maxPointsPerFrame()): Change | null {
  if (limit === null) return null;
  return edit.changes.find((c) => c.after.length > limit && c.after.length > c.before.length) ?? null;
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
