import { describe, expect, it } from "vitest";
import { canvasToVideo, fitRect, requestMaxSide, roundCoord, videoToCanvas } from "./geometry";

describe("fitRect", () => {
  it("letterboxes a wide video in a tall container (bars top and bottom)", () => {
    const f = fitRect({ width: 800, height: 800 }, { width: 1920, height: 1080 });
    expect(f.scale).toBeCloseTo(800 / 1920);
    expect(f.width).toBeCloseTo(800);
    expect(f.height).toBeCloseTo(450);
    expect(f.x).toBeCloseTo(0);
    expect(f.y).toBeCloseTo(175);
  });

  it("pillarboxes a tall video in a wide container (bars left and right)", () => {
    const f = fitRect({ width: 1000, height: 500 }, { width: 1080, height: 1920 });
    expect(f.height).toBeCloseTo(500);
    expect(f.width).toBeCloseTo(281.25);
    expect(f.x).toBeCloseTo((1000 - 281.25) / 2);
    expect(f.y).toBeCloseTo(0);
  });

  it("scales up small videos and respects maxScale", () => {
    expect(fitRect({ width: 640, height: 360 }, { width: 320, height: 180 }).scale).toBe(2);
    expect(fitRect({ width: 640, height: 360 }, { width: 320, height: 180 }, 1).scale).toBe(1);
  });

  it("is empty for zero sizes", () => {
    expect(fitRect({ width: 0, height: 100 }, { width: 10, height: 10 }).scale).toBe(0);
    expect(fitRect({ width: 100, height: 100 }, { width: 0, height: 10 }).scale).toBe(0);
  });
});

describe("canvas ↔ video mapping", () => {
  const video = { width: 1920, height: 1080 };
  const fit = fitRect({ width: 960, height: 700 }, video); // scale 0.5, y offset 80

  it("maps canvas points to original video pixels regardless of scale", () => {
    expect(fit.scale).toBeCloseTo(0.5);
    expect(fit.y).toBeCloseTo(80);
    expect(canvasToVideo({ x: 480, y: 350 }, fit, video)).toEqual({ x: 960, y: 540 });
    expect(canvasToVideo({ x: 0, y: 80 }, fit, video)).toEqual({ x: 0, y: 0 });
    expect(canvasToVideo({ x: 10, y: 90 }, fit, video)).toEqual({ x: 20, y: 20 });
  });

  it("returns null on the letterbox bars", () => {
    expect(canvasToVideo({ x: 480, y: 40 }, fit, video)).toBeNull();
    expect(canvasToVideo({ x: 480, y: 660 }, fit, video)).toBeNull();
    expect(canvasToVideo({ x: -1, y: 300 }, fit, video)).toBeNull();
  });

  it("maps the far edges to the frame's edges, which the server accepts", () => {
    expect(canvasToVideo({ x: 960, y: 620 }, fit, video)).toEqual({ x: 1920, y: 1080 });
    // A hair inside the edge rounds to the edge, never past it (the API takes x in [0, width]).
    const p = canvasToVideo({ x: 960 - 1e-4, y: 620 - 1e-4 }, fit, video)!;
    expect(roundCoord(p.x)).toBe(1920);
    expect(roundCoord(p.y)).toBe(1080);
  });

  it("keeps every rounded click within [0, size] for odd sizes and scales", () => {
    for (const v of [
      { width: 97, height: 63 },
      { width: 1919, height: 1081 },
      { width: 3, height: 5000 },
    ]) {
      const f = fitRect({ width: 777, height: 555 }, v);
      for (let i = 0; i <= 1000; i++) {
        const at = canvasToVideo({ x: f.x + (f.width * i) / 1000, y: f.y + (f.height * i) / 1000 }, f, v)!;
        expect(at).not.toBeNull();
        expect(roundCoord(at.x)).toBeGreaterThanOrEqual(0);
        expect(roundCoord(at.x)).toBeLessThanOrEqual(v.width);
        expect(roundCoord(at.y)).toBeGreaterThanOrEqual(0);
        expect(roundCoord(at.y)).toBeLessThanOrEqual(v.height);
      }
    }
  });

  it("round-trips video → canvas → video", () => {
    for (const p of [
      { x: 0, y: 0 },
      { x: 123.4, y: 567.8 },
      { x: 1919, y: 1079 },
    ]) {
      const back = canvasToVideo(videoToCanvas(p, fit), fit, video)!;
      expect(back.x).toBeCloseTo(p.x, 6);
      expect(back.y).toBeCloseTo(p.y, 6);
    }
  });

  it("works with pillarboxing and a non-uniform container", () => {
    const v = { width: 720, height: 1280 };
    const f = fitRect({ width: 1200, height: 640 }, v); // scale 0.5, x offset 420
    expect(canvasToVideo({ x: 420, y: 0 }, f, v)).toEqual({ x: 0, y: 0 });
    expect(canvasToVideo({ x: 600, y: 320 }, f, v)).toEqual({ x: 360, y: 640 });
    expect(canvasToVideo({ x: 419, y: 320 }, f, v)).toBeNull();
  });
});

describe("helpers", () => {
  it("rounds coordinates to a tenth of a pixel", () => {
    expect(roundCoord(12.345)).toBe(12.3);
    expect(roundCoord(12.35001)).toBe(12.4);
  });

  it("buckets the requested max_side and uses the original when it is small enough", () => {
    expect(requestMaxSide(500, 1920)).toBe(640);
    expect(requestMaxSide(500, 1920, 2)).toBe(1280);
    expect(requestMaxSide(900, 960)).toBe(0);
    expect(requestMaxSide(2000, 1920)).toBe(0);
  });
});
