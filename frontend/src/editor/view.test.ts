import { describe, expect, it } from "vitest";
import { fromFramePoints } from "../points";
import { frameSummary, markersOn, pointCounts, seekMarkers, unsavedCount, type UnsavedTest } from "./view";

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
});
