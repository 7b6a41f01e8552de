import { describe, expect, it } from "vitest";
import { fromFramePoints } from "../points";
import { boxesOn, frameSummary, markersOn, pointCounts, seekMarkers, unsavedCount, type UnsavedTest } from "./view";

const points = fromFramePoints([
  { object_id: 1, frame: 0, points: [{ x: 1, y: 1, label: "positive" }, { x: 2, y: 2, label: "negative" }] },
  { object_id: 2, frame: 0, points: [{ x: 3, y: 3, label: "positive" }] },
  { object_id: 2, frame: 7, points: [{ x: 4, y: 4, label: "positive" }] },
]);
const colorOf = (oid: number) => (oid === 1 ? "#ff0000" : "#0000ff");
const none: UnsavedTest = () => false;
/** Object 2's point at (3, 3) on frame 0 is not on the server. */
const oneUnsaved: UnsavedTest = (oid, f, p) => oid === 2 && f === 0 && p.x === 3;

describe("editor view data", () => {
  it("marks the points the server does not have yet", () => {
    const m = markersOn(points, 0, colorOf, 2, oneUnsaved);
    expect(m.map((x) => [x.objectId, x.color, x.selected, x.unsaved])).toEqual([
      [1, "#ff0000", false, false],
      [1, "#ff0000", false, false],
      [2, "#0000ff", true, true],
    ]);
  });

  it("one seek mark per prompted frame, white where objects share it", () => {
    expect(seekMarkers(points, colorOf)).toEqual([
      { frame: 0, color: "#ffffff" },
      { frame: 7, color: "#0000ff" },
    ]);
  });

  it("counts points per object and sums up a frame", () => {
    expect([...pointCounts(points)]).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(frameSummary(points, 0, none)).toBe("2 positive, 1 negative on this frame");
    expect(frameSummary(points, 0, oneUnsaved)).toBe("2 positive, 1 negative on this frame · 1 not saved yet");
    expect(frameSummary(points, 3, none)).toBe("no points on this frame");
    expect(unsavedCount(points, oneUnsaved)).toBe(1);
    expect(unsavedCount(points, none)).toBe(0);
  });

  it("draws a box as its rectangle, not as two points, and counts it once", () => {
    const boxed = fromFramePoints([
      {
        object_id: 1,
        frame: 4,
        points: [{ x: 50, y: 5, label: "box" }, { x: 10, y: 30, label: "box" }, { x: 20, y: 20, label: "negative" }],
      },
    ]);
    expect(markersOn(boxed, 4, colorOf, 1, none).map((m) => m.point.label)).toEqual(["negative"]);
    expect(boxesOn(boxed, 4, colorOf, 1)).toEqual([
      { objectId: 1, box: { x0: 10, y0: 5, x1: 50, y1: 30 }, color: "#ff0000", selected: true },
    ]);
    expect([...pointCounts(boxed)]).toEqual([[1, 2]]);
    expect(frameSummary(boxed, 4, none)).toBe("0 positive, 1 negative, 1 box on this frame");
  });
});
