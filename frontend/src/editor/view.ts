// What the editor draws from its state: pure functions of the points, objects and frame.
import type { Marker } from "../components/FrameStage";
import { parseKey, pointsOnFrame, type Point, type PointMap } from "../points";

/** Whether the server lacks a point (it was down when the point was clicked). */
export type UnsavedTest = (objectId: number, frame: number, point: Point) => boolean;

/** The points on `frame`, coloured by object, the unsaved ones marked. */
export function markersOn(
  points: PointMap,
  frame: number,
  colorOf: (objectId: number) => string,
  selected: number | null,
  unsaved: UnsavedTest,
): Marker[] {
  return pointsOnFrame(points, frame).map((c) => ({
    ...c,
    color: colorOf(c.objectId),
    selected: c.objectId === selected,
    unsaved: unsaved(c.objectId, frame, c.point),
  }));
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

/** Points per object, over every frame. */
export function pointCounts(points: PointMap): Map<number, number> {
  const m = new Map<number, number>();
  for (const [key, pts] of points) {
    const k = parseKey(key);
    m.set(k.objectId, (m.get(k.objectId) ?? 0) + pts.length);
  }
  return m;
}

/** "2 positive, 1 negative on this frame" (with how many wait for the server). */
export function frameSummary(points: PointMap, frame: number, unsaved: UnsavedTest): string {
  const on = pointsOnFrame(points, frame);
  if (!on.length) return "no points on this frame";
  const pos = on.filter((c) => c.point.label === "positive").length;
  const waiting = on.filter((c) => unsaved(c.objectId, frame, c.point)).length;
  return `${pos} positive, ${on.length - pos} negative on this frame${waiting ? ` · ${waiting} not saved yet` : ""}`;
}
