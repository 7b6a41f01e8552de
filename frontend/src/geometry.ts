// Mapping between canvas (CSS pixel) coordinates and stored video pixels.
// The frame is drawn "contain"-fitted at its display shape: a stored pixel shows
// `pixel_aspect` times as wide as it is high (anamorphic DV and HDV store 16:9 pictures in
// narrower frames), so the fit scales x and y apart. Frames, points and mattes stay in stored
// pixels; only the drawing is stretched. Centred, with letterbox (top/bottom) or pillarbox
// (left/right) bars where the aspect ratios differ.

export interface Size {
  width: number;
  height: number;
}

export interface Vec {
  x: number;
  y: number;
}

/** A picture in stored pixels and the shape of those pixels (VideoInfo's fields). */
export interface Picture extends Size {
  /** how wide one stored pixel shows relative to its height; absent: square (1) */
  pixel_aspect?: number;
}

/** How wide one of the picture's stored pixels shows relative to its height. */
function pixelAspect(p: Picture): number {
  const a = p.pixel_aspect;
  // A missing or broken value (an older server) shows square pixels rather than no picture.
  return a !== undefined && Number.isFinite(a) && a > 0 ? a : 1;
}

/** The size a picture shows at: its stored width stretched by the pixel aspect. */
export function displaySize(p: Picture): Size {
  return { width: p.width * pixelAspect(p), height: p.height };
}

/** Where a `content` picture lands inside a `container`, scaled to fit at its display shape. */
export interface FitRect {
  /** left edge of the drawn image inside the container */
  x: number;
  /** top edge of the drawn image inside the container */
  y: number;
  /** drawn width */
  width: number;
  /** drawn height */
  height: number;
  /** drawn pixels per stored pixel across (the pixel aspect times scaleY) */
  scaleX: number;
  /** drawn pixels per stored pixel down (= per display pixel) */
  scaleY: number;
}

/** The picture's size as people read it: stored pixels, and for non-square pixels the size it
 * shows at (an editor needs both: points are in the first, the frame looks like the second). */
export function sizeLabel(p: Picture): string {
  const shown = displaySize(p);
  const stored = `${p.width}×${p.height}`;
  return shown.width === p.width ? stored : `${stored} (shown ${Math.round(shown.width)}×${p.height})`;
}

/** Fit `content` (stored pixels) into `container`; `maxScale` caps drawn per display pixel. */
export function fitRect(container: Size, content: Picture, maxScale = Infinity): FitRect {
  const shown = displaySize(content);
  if (shown.width <= 0 || shown.height <= 0 || container.width <= 0 || container.height <= 0) {
    return { x: 0, y: 0, width: 0, height: 0, scaleX: 0, scaleY: 0 };
  }
  const scale = Math.min(container.width / shown.width, container.height / shown.height, maxScale);
  const width = shown.width * scale;
  const height = shown.height * scale;
  return {
    x: (container.width - width) / 2,
    y: (container.height - height) / 2,
    width,
    height,
    // Square pixels (aspect 1) keep one scale for both axes, exactly as before.
    scaleX: scale * pixelAspect(content),
    scaleY: scale,
  };
}

/**
 * Canvas (container) coordinates to stored video pixels. Returns null when the position lies
 * on a letterbox bar, outside the picture.
 */
export function canvasToVideo(p: Vec, fit: FitRect, video: Size): Vec | null {
  if (fit.scaleX <= 0 || fit.scaleY <= 0) return null;
  const x = (p.x - fit.x) / fit.scaleX;
  const y = (p.y - fit.y) / fit.scaleY;
  // Rounding in the scale can put a click on the drawn edge a hair outside the picture.
  const slack = 1e-3;
  if (x < -slack || y < -slack || x > video.width + slack || y > video.height + slack) return null;
  // The API takes x in [0, width] and y in [0, height]: the edges are valid clicks, and a
  // clamped value still rounds (roundCoord) to a value in range.
  return { x: clamp(x, 0, video.width), y: clamp(y, 0, video.height) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** Stored video pixels to canvas (container) coordinates. */
export function videoToCanvas(p: Vec, fit: FitRect): Vec {
  return { x: fit.x + p.x * fit.scaleX, y: fit.y + p.y * fit.scaleY };
}

/** Round to a tenth of a pixel: enough precision, tidy JSON. */
export function roundCoord(v: number): number {
  return Math.round(v * 10) / 10;
}

/**
 * Choose the `max_side` to request a frame at: enough for the displayed size times the
 * device pixel ratio, bucketed so nearby sizes share the browser cache, never above the
 * video's own size (0 = the original size).
 */
export function requestMaxSide(displayLongSide: number, videoLongSide: number, dpr = 1): number {
  const want = Math.ceil(displayLongSide * Math.max(1, dpr));
  const buckets = [320, 480, 640, 960, 1280, 1600, 1920, 2560, 3840];
  const bucket = buckets.find((b) => b >= want) ?? want;
  return bucket >= videoLongSide ? 0 : bucket;
}

/**
 * The `max_side` to request frames of `video` at to fill its fit in `stage`. The server scales
 * stored pixels uniformly, so the axis drawn densest per stored pixel decides: for a pixel
 * aspect above 1 that is x, and the request may exceed the drawn height's need.
 */
export function frameMaxSide(stage: Size, video: Picture, dpr = 1): number {
  const f = fitRect(stage, video);
  const long = Math.max(video.width, video.height);
  // For square pixels this is the drawn long side, as before.
  return requestMaxSide(long * Math.max(f.scaleX, f.scaleY), long, dpr);
}
