import { describe, expect, it } from "vitest";
import {
  canvasToPicture,
  canvasToVideo,
  clampPan,
  displaySize,
  FIT_VIEW,
  fitRect,
  frameMaxSide,
  MAX_ZOOM,
  panBy,
  panToShow,
  requestMaxSide,
  roundCoord,
  videoToCanvas,
  viewRect,
  wheelZoomFactor,
  zoomAt,
  type Picture,
  type Size,
} from "./geometry";

describe("fitRect", () => {
  it("letterboxes a wide video in a tall container (bars top and bottom)", () => {
    const f = fitRect({ width: 800, height: 800 }, { width: 1920, height: 1080 });
    expect(f.scaleX).toBeCloseTo(800 / 1920);
    expect(f.scaleY).toBeCloseTo(800 / 1920);
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
    expect(fitRect({ width: 640, height: 360 }, { width: 320, height: 180 })).toMatchObject({ scaleX: 2, scaleY: 2 });
    expect(fitRect({ width: 640, height: 360 }, { width: 320, height: 180 }, 1)).toMatchObject({ scaleX: 1, scaleY: 1 });
  });

  it("is empty for zero sizes", () => {
    expect(fitRect({ width: 0, height: 100 }, { width: 10, height: 10 })).toMatchObject({ scaleX: 0, scaleY: 0 });
    expect(fitRect({ width: 100, height: 100 }, { width: 0, height: 10 })).toMatchObject({ scaleX: 0, scaleY: 0 });
  });
});

describe("canvas ↔ video mapping", () => {
  const video = { width: 1920, height: 1080 };
  const fit = fitRect({ width: 960, height: 700 }, video); // scale 0.5, y offset 80

  it("maps canvas points to original video pixels regardless of scale", () => {
    expect(fit.scaleX).toBeCloseTo(0.5);
    expect(fit.scaleY).toBeCloseTo(0.5);
    expect(fit.y).toBeCloseTo(80);
    expect(canvasToVideo({ x: 480, y: 350 }, fit, video)).toEqual({ x: 960, y: 540 });
    expect(canvasToVideo({ x: 0, y: 80 }, fit, video)).toEqual({ x: 0, y: 0 });
    expect(canvasToVideo({ x: 10, y: 90 }, fit, video)).toEqual({ x: 20, y: 20 });
  });

  it("holds a position past the picture on its edge, for a box dragged out of it", () => {
    expect(canvasToPicture({ x: 480, y: 40 }, fit, video)).toEqual({ x: 960, y: 0 });
    expect(canvasToPicture({ x: 1000, y: 700 }, fit, video)).toEqual({ x: 1920, y: 1080 });
    expect(canvasToPicture({ x: 10, y: 90 }, fit, video)).toEqual({ x: 20, y: 20 });
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

  it("keeps every rounded click within [0, size] for odd sizes, scales and pixel aspects", () => {
    for (const v of [
      { width: 97, height: 63 },
      { width: 1919, height: 1081 },
      { width: 3, height: 5000 },
      { width: 720, height: 480, pixel_aspect: 32 / 27 },
      { width: 1919, height: 1081, pixel_aspect: 4 / 3 },
      { width: 97, height: 63, pixel_aspect: 10 / 11 },
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

  it("never asks for more than the API's max_side (8192): a zoomed panorama wider than that gets its largest", () => {
    // 12288×2048 (a panorama within the pixel limit) zoomed in: its long side drawn at 12800.
    expect(requestMaxSide(12800, 12288)).toBe(0); // all of it: the original, no max_side
    expect(requestMaxSide(9000, 12288)).toBe(8192);
    expect(requestMaxSide(4000, 12288)).toBe(4000);
    expect(frameMaxSide({ width: 1600, height: 900 }, { width: 12288, height: 2048 }, 2, 3)).toBe(8192); // drawn 9600 across
  });
});

describe("non-square pixels (pixel_aspect)", () => {
  // 16:9 DV: stored 720×480, each pixel shown 32/27 as wide as high (853.33×480 on screen).
  const dv = { width: 720, height: 480, pixel_aspect: 32 / 27 };
  const fit = fitRect({ width: 854, height: 480 }, dv);

  it("fits the display shape, not the stored one", () => {
    expect(displaySize(dv).width).toBeCloseTo(853.333, 3);
    expect(fit.width).toBeCloseTo(853.333, 3);
    expect(fit.height).toBeCloseTo(480);
    expect(fit.x).toBeCloseTo(1 / 3);
    expect(fit.y).toBeCloseTo(0);
    expect(fit.scaleX).toBeCloseTo(32 / 27);
    expect(fit.scaleY).toBeCloseTo(1);
    // HDV: 1440×1080 stored, 4/3 pixels, fills a 1920×1080 stage exactly.
    const hdv = fitRect({ width: 1920, height: 1080 }, { width: 1440, height: 1080, pixel_aspect: 4 / 3 });
    expect(hdv).toMatchObject({ x: 0, y: 0, width: 1920, height: 1080, scaleY: 1 });
    expect(hdv.scaleX).toBeCloseTo(4 / 3);
  });

  it("pillarboxes pixels narrower than square (4:3 DV, 8/9)", () => {
    const f = fitRect({ width: 854, height: 480 }, { width: 720, height: 480, pixel_aspect: 8 / 9 });
    expect(f.width).toBeCloseTo(640);
    expect(f.x).toBeCloseTo(107);
    expect(canvasToVideo({ x: 107 + 320, y: 240 }, f, { width: 720, height: 480 })).toEqual({ x: 360, y: 240 });
  });

  it("maps clicks to stored pixels", () => {
    expect(canvasToVideo({ x: 427, y: 240 }, fit, dv)).toEqual({ x: 360, y: 240 });
    // The picture spans canvas x 1/3 … 853 2/3: a quarter of it is a quarter of the stored width.
    const q = canvasToVideo({ x: 1 / 3 + 853.333333 / 4, y: 120 }, fit, dv)!;
    expect(q.x).toBeCloseTo(180, 4);
    expect(q.y).toBeCloseTo(120, 6);
    // The drawn right edge is the stored right edge, which the server accepts.
    const edge = canvasToVideo({ x: 853.6667, y: 480 }, fit, dv)!;
    expect(roundCoord(edge.x)).toBe(720);
    expect(roundCoord(edge.y)).toBe(480);
    expect(canvasToVideo({ x: 0, y: 240 }, fit, dv)).toBeNull(); // the 1/3 px bar
  });

  it("round-trips video → canvas → video and canvas → video → canvas", () => {
    const cases: [Size, Picture][] = [
      [{ width: 854, height: 480 }, dv],
      [{ width: 1000, height: 1000 }, { width: 1440, height: 1080, pixel_aspect: 4 / 3 }],
      [{ width: 777, height: 555 }, { width: 97, height: 63, pixel_aspect: 0.7 }],
    ];
    for (const [container, v] of cases) {
      const f = fitRect(container, v);
      for (const p of [
        { x: 0, y: 0 },
        { x: 12.3, y: 45.6 },
        { x: v.width / 3, y: v.height - 1 },
        { x: v.width, y: v.height },
      ]) {
        const back = canvasToVideo(videoToCanvas(p, f), f, v)!;
        expect(back.x).toBeCloseTo(p.x, 6);
        expect(back.y).toBeCloseTo(p.y, 6);
        const c = videoToCanvas(back, f);
        const there = videoToCanvas(p, f);
        expect(c.x).toBeCloseTo(there.x, 6);
        expect(c.y).toBeCloseTo(there.y, 6);
      }
    }
  });

  it("treats aspect 1, and a missing or broken one, as square pixels exactly as before", () => {
    const container = { width: 960, height: 700 };
    const plain = fitRect(container, { width: 1920, height: 1080 });
    for (const pixel_aspect of [1, undefined, 0, -2, Number.NaN, Infinity]) {
      const v = { width: 1920, height: 1080, pixel_aspect };
      expect(fitRect(container, v)).toEqual(plain);
      expect(canvasToVideo({ x: 123, y: 456 }, fitRect(container, v), v)).toEqual(canvasToVideo({ x: 123, y: 456 }, plain, v));
    }
    expect(plain.scaleX).toBe(plain.scaleY);
  });

  it("asks for frames sharp along the stretched axis, in stored pixels", () => {
    // HDV in a 1280×720 stage: drawn 1280 px across from 1440 stored columns, so the frame must
    // be 1280 stored pixels wide (a uniform fit of the stored shape would ask for 960).
    expect(frameMaxSide({ width: 1280, height: 720 }, { width: 1440, height: 1080, pixel_aspect: 4 / 3 })).toBe(1280);
    expect(frameMaxSide({ width: 854, height: 480 }, dv)).toBe(0); // needs more than 720: the original
    // Square pixels: the drawn long side, as before.
    expect(frameMaxSide({ width: 600, height: 400 }, { width: 1920, height: 1080 })).toBe(640);
    expect(frameMaxSide({ width: 600, height: 400 }, { width: 1920, height: 1080 }, 2)).toBe(1280);
  });
});

describe("zoom and pan", () => {
  const video = { width: 1920, height: 1080 };
  // Filled across, letterboxed 75 px top and bottom.
  const fit = fitRect({ width: 960, height: 690 }, video);

  it("leaves the fit alone at 1×", () => {
    expect(viewRect(fit, FIT_VIEW)).toEqual(fit);
    expect(clampPan({ zoom: 1, x: 0.04, y: -0.03 })).toEqual(FIT_VIEW);
  });

  it("magnifies about the stage centre when not panned", () => {
    const r = viewRect(fit, { zoom: 2, x: 0, y: 0 });
    expect(r.width).toBeCloseTo(1920);
    expect(r.height).toBeCloseTo(1080);
    expect(r.scaleX).toBeCloseTo(1);
    expect(r.x).toBeCloseTo(-480); // the centre stays at 480, 345
    expect(r.y).toBeCloseTo(345 - 540);
  });

  it("keeps the stored pixel under the cursor after zoomAt, in and out", () => {
    const anchor = { x: 700, y: 300 };
    const before = canvasToVideo(anchor, viewRect(fit, FIT_VIEW), video)!;
    const v1 = zoomAt(FIT_VIEW, fit, anchor, 2.5);
    expect(v1.zoom).toBeCloseTo(2.5);
    const after = canvasToVideo(anchor, viewRect(fit, v1), video)!;
    expect(after.x).toBeCloseTo(before.x, 6);
    expect(after.y).toBeCloseTo(before.y, 6);
    const v2 = zoomAt(v1, fit, { x: 200, y: 500 }, 3);
    const b2 = canvasToVideo({ x: 200, y: 500 }, viewRect(fit, v1), video)!;
    const a2 = canvasToVideo({ x: 200, y: 500 }, viewRect(fit, v2), video)!;
    expect(v2.zoom).toBeCloseTo(7.5);
    expect(a2.x).toBeCloseTo(b2.x, 6);
    expect(a2.y).toBeCloseTo(b2.y, 6);
    const v3 = zoomAt(v2, fit, { x: 200, y: 500 }, 1 / 2);
    const a3 = canvasToVideo({ x: 200, y: 500 }, viewRect(fit, v3), video)!;
    expect(a3.x).toBeCloseTo(b2.x, 6);
    expect(a3.y).toBeCloseTo(b2.y, 6);
  });

  it("limits the zoom to 1× – 16×", () => {
    expect(zoomAt(FIT_VIEW, fit, { x: 100, y: 100 }, 1000).zoom).toBe(MAX_ZOOM);
    expect(zoomAt({ zoom: 3, x: 100, y: 50 }, fit, { x: 100, y: 100 }, 0.01)).toEqual(FIT_VIEW);
  });

  it("round-trips canvasToVideo and videoToCanvas under zoom and pan", () => {
    const r = viewRect(fit, clampPan({ zoom: 6, x: 1.2, y: -0.7 }));
    for (const p of [
      { x: 1, y: 1 },
      { x: 1700.5, y: 120.25 },
      { x: 1919, y: 1079 },
    ]) {
      const back = canvasToVideo(videoToCanvas(p, r), r, video)!;
      expect(back.x).toBeCloseTo(p.x, 6);
      expect(back.y).toBeCloseTo(p.y, 6);
    }
  });

  it("clamps the pan so the zoomed picture keeps covering where the fitted one lies", () => {
    // 2×: 1920×1080 drawn; the fit is 960×540 at (0, 75): at most half its size either way.
    expect(clampPan({ zoom: 2, x: 5, y: -5 })).toEqual({ zoom: 2, x: 0.5, y: -0.5 });
    const r = viewRect(fit, clampPan({ zoom: 2, x: 5, y: -5 }));
    expect(r.x).toBeCloseTo(0); // the left edge at the fit's (the stage's) left edge
    expect(r.y + r.height).toBeCloseTo(75 + 540); // the bottom edge at the fit's bottom
    const small = clampPan({ zoom: 1.2, x: -0.5, y: 0.04 });
    expect(small.x).toBeCloseTo(-0.1); // 0.2 / 2
    expect(small.y).toBe(0.04);
    // by container pixels: 48 across is 0.05 of the fit's width (and clamped), 27 down 0.05
    expect(panBy({ zoom: 2, x: 0.48, y: 0 }, fit, 48, 27)).toEqual({ zoom: 2, x: 0.5, y: 0.05 });
    // zooming out pulls a panned picture back over the fit, and 1× centres it
    expect(zoomAt({ zoom: 2, x: 0.5, y: 0 }, fit, { x: 0, y: 0 }, 1 / 1.5).x).toBeCloseTo(1 / 6);
  });

  it("shows the same part of the picture on a stage resized while zoomed", () => {
    const v = zoomAt(FIT_VIEW, fit, { x: 240, y: 345 }, 4); // about the left quarter
    const narrow = fitRect({ width: 480, height: 690 }, video); // the window made narrower
    const before = canvasToVideo({ x: 480, y: 345 }, viewRect(fit, v), video)!; // the centre's pixel
    const after = canvasToVideo({ x: 240, y: 345 }, viewRect(narrow, v), video)!;
    expect(after.x).toBeCloseTo(before.x, 6);
    expect(after.y).toBeCloseTo(before.y, 6);
  });

  it("pans just enough to show a point moved off the zoomed view, and not at all for one in it", () => {
    const stage = { width: 960, height: 690 };
    const v = { zoom: 4, x: 0, y: 0 };
    expect(panToShow(v, fit, { x: 500, y: 300 }, stage)).toEqual(v);
    const right = panToShow(v, fit, { x: 1000, y: 300 }, stage);
    expect(right).toEqual({ zoom: 4, x: (960 - 24 - 1000) / 960, y: 0 });
    const shown = videoToCanvas(canvasToVideo({ x: 1000, y: 300 }, viewRect(fit, v), video)!, viewRect(fit, right));
    expect(shown.x).toBeCloseTo(960 - 24);
    expect(panToShow(v, fit, { x: 500, y: -10 }, stage)).toEqual({ zoom: 4, x: 0, y: 34 / 540 });
    // never past the pan limits: at 1× nothing moves
    expect(panToShow(FIT_VIEW, fit, { x: 2000, y: 300 }, stage)).toEqual(FIT_VIEW);
  });

  it("asks for frames as sharp as the zoomed view needs, capped at the video's size", () => {
    const stage = { width: 640, height: 360 };
    expect(frameMaxSide(stage, video)).toBe(640);
    expect(frameMaxSide(stage, video, 1, 2)).toBe(1280);
    expect(frameMaxSide(stage, video, 1, 2.2)).toBe(1600); // bucketed
    expect(frameMaxSide(stage, video, 1, 4)).toBe(0); // 2560 > 1920: the original
  });

  it("zooms by the wheel: in for a wheel turned up, out for down, pinches faster", () => {
    expect(wheelZoomFactor(-100, 0, false)).toBeGreaterThan(1.2);
    expect(wheelZoomFactor(100, 0, false)).toBeCloseTo(1 / wheelZoomFactor(-100, 0, false));
    expect(wheelZoomFactor(-3, 1, false)).toBeCloseTo(wheelZoomFactor(-48, 0, false));
    expect(wheelZoomFactor(-10, 0, true)).toBeCloseTo(Math.exp(0.1));
  });
});
