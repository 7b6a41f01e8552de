// What the editor draws from its state: pure functions of the points, objects and frame.
import type { BoxMarker, Marker } from "../components/FrameStage";
import { boxesOnFrame, clicksOnFrame, parseKey, pointsOnFrame, type Point, type PointMap } from "../points";

/** Whether the server lacks a point (it was down when the point was clicked). */
export type UnsavedTest = (objectId: number, frame: number, point: Point) => boolean;

/** The clicks on `frame`, coloured by object, the unsaved ones marked (boxes: `boxesOn`). */
export function markersOn(
  points: PointMap,
  frame: number,
  colorOf: (objectId: number) => string,
  selected: number | null,
  unsaved: UnsavedTest,
): Marker[] {
  return clicksOnFrame(points, frame).map((c) => ({
    ...c,
    color: colorOf(c.objectId),
    selected: c.objectId === selected,
    unsaved: unsaved(c.objectId, frame, c.point),
  }));
}

/** The objects' boxes on `frame`, coloured by object. */
export function boxesOn(points: PointMap, frame: number, colorOf: (objectId: number) => string, selected: number | null): BoxMarker[] {
  return boxesOnFrame(points, frame).map((b) => ({ ...b, color: colorOf(b.objectId), selected: b.objectId === selected }));
}

/** How many points, over every frame, the server lacks. */
export function unsavedCount(points: PointMap, unsaved: UnsavedTest): number {
  let n = 0;
  for (const [key, pts] of points) {
    const k = parseKey(key);
    n += pts.filter((p) => unsaved(k.objectId, k.frame, p)).length;
  }
  return n;
}

/** One seek-bar mark per frame with points: its object's colour, white when several. */
export function seekMarkers(points: PointMap, colorOf: (objectId: number) => string): { frame: number; color: string }[] {
  const byFrame = new Map<number, number[]>();
  for (const [key, pts] of points) {
    if (!pts.length) continue;
    const k = parseKey(key);
    byFrame.set(k.frame, [...(byFrame.get(k.frame) ?? []), k.objectId]);
  }
  return [...byFrame.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([f, oids]) => ({ frame: f, color: oids.length === 1 ? colorOf(oids[0]) : "#ffffff" }));
}

/** Prompts per object, over every frame: its clicks, and a box as one. */
export function pointCounts(points: PointMap): Map<number, number> {
  const m = new Map<number, number>();
  for (const [key, pts] of points) {
    const k = parseKey(key);
    const boxes = pts.filter((p) => p.label === "box").length / 2;
    m.set(k.objectId, (m.get(k.objectId) ?? 0) + pts.length - boxes);
  }
  return m;
}

/** "2 positive, 1 negative on this frame" (", 1 box" with boxes; with how many points wait
 * for the server). */
export function frameSummary(points: PointMap, frame: number, unsaved: UnsavedTest): string {
  const clicks = clicksOnFrame(points, frame);
  const boxes = boxesOnFrame(points, frame).length;
  if (!clicks.length && !boxes) return "no points on this frame";
  const pos = clicks.filter((c) => c.point.label === "positive").length;
  const boxed = boxes ? `, ${boxes} box${boxes > 1 ? "es" : ""}` : "";
  const waiting = pointsOnFrame(points, frame).filter((c) => unsaved(c.objectId, frame, c.point)).length;
  return `${pos} positive, ${clicks.length - pos} negative${boxed} on this frame${waiting ? ` · ${waiting} not saved yet` : ""}`;
}
