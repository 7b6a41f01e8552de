import { describe, expect, it } from "vitest";
import { SHORTCUTS } from "../keyboard";
import { boxCornerWords, boxWords, crosshairKey, crosshairStart, moveCrosshair, FINE_STEP, STEP } from "./crosshair";

const frame = { width: 320, height: 180 };

describe("keyboard crosshair", () => {
  it("maps arrows to moves in frame pixels: 10, or 1 with Shift", () => {
    expect(STEP).toBe(10);
    expect(FINE_STEP).toBe(1);
    expect(crosshairKey({ key: "ArrowLeft" })).toEqual({ type: "move", dx: -10, dy: 0 });
    expect(crosshairKey({ key: "ArrowRight", shiftKey: true })).toEqual({ type: "move", dx: 1, dy: 0 });
    expect(crosshairKey({ key: "ArrowUp" })).toEqual({ type: "move", dx: 0, dy: -10 });
    expect(crosshairKey({ key: "ArrowDown", shiftKey: true })).toEqual({ type: "move", dx: 0, dy: 1 });
  });

  it("Enter places a positive point, Shift+Enter a negative one, Escape leaves", () => {
    expect(crosshairKey({ key: "Enter" })).toEqual({ type: "place", label: "positive" });
    expect(crosshairKey({ key: "Enter", shiftKey: true })).toEqual({ type: "place", label: "negative" });
    expect(crosshairKey({ key: "Escape" })).toEqual({ type: "leave" });
  });

  it("B sets a box's corners (Caps Lock or not), and says where it stands", () => {
    expect(crosshairKey({ key: "b" })).toEqual({ type: "box" });
    expect(crosshairKey({ key: "B" })).toEqual({ type: "box" });
    expect(crosshairKey({ key: "B", shiftKey: true })).toBeNull();
    expect(crosshairKey({ key: "b", ctrlKey: true })).toBeNull();
    expect(boxCornerWords({ x: 10.4, y: 20.6 })).toBe("Box corner at 10, 21: move to the opposite corner and press B again");
    expect(boxWords({ x0: 10, y0: 20, x1: 60, y1: 80 }, "Object 1", "0 positive, 0 negative, 1 box on this frame")).toBe(
      "Box for Object 1 from 10, 20 to 60, 80 — 0 positive, 0 negative, 1 box on this frame",
    );
    expect(boxWords(null, "Object 1")).toBe("No box: its corners must be at least 1 pixel apart each way");
  });

  it("leaves every other key, and modified arrows and Enter, to the editor's shortcuts", () => {
    for (const k of ["Home", "End", " ", "p", "Delete", "z", "["]) expect(crosshairKey({ key: k })).toBeNull();
    expect(crosshairKey({ key: "z", ctrlKey: true })).toBeNull();
    expect(crosshairKey({ key: "ArrowLeft", ctrlKey: true })).toBeNull();
    expect(crosshairKey({ key: "ArrowLeft", altKey: true })).toBeNull();
    expect(crosshairKey({ key: "Enter", metaKey: true })).toBeNull();
  });

  it("moves and stays on the frame: clamped to [0, width] × [0, height]", () => {
    expect(moveCrosshair({ x: 160, y: 90 }, -10, 0, frame)).toEqual({ x: 150, y: 90 });
    expect(moveCrosshair({ x: 160, y: 90 }, 0, 1, frame)).toEqual({ x: 160, y: 91 });
    expect(moveCrosshair({ x: 5, y: 3 }, -10, -10, frame)).toEqual({ x: 0, y: 0 });
    expect(moveCrosshair({ x: 315, y: 175 }, 10, 10, frame)).toEqual({ x: 320, y: 180 });
  });

  it("starts at the frame's centre, then where it was left (the last point placed), kept on the frame", () => {
    expect(crosshairStart(null, frame)).toEqual({ x: 160, y: 90 });
    expect(crosshairStart({ x: 96, y: 60 }, frame)).toEqual({ x: 96, y: 60 });
    expect(crosshairStart({ x: 900, y: -4 }, frame)).toEqual({ x: 320, y: 0 });
  });

  it("is listed in the shortcuts help", () => {
    const keys = SHORTCUTS.map(([k]) => k);
    expect(keys).toContain("Tab to the frame, then ← → ↑ ↓");
    expect(keys).toContain("Enter / Shift + Enter on the frame");
    expect(keys).toContain("B on the frame, B again");
    expect(keys).toContain("Drag on the frame");
  });
});
