// Mapping between canvas (CSS pixel) coordinates and original video pixels.
// The frame is drawn "contain"-fitted: scaled uniformly and centred, with letterbox
// (top/bottom) or pillarbox (left/right) bars where the aspect ratios differ.

export interface Size {
  width: number;
  height: number;
}

export interface Vec {
  x: number;
  y: number;
}

/** Where a `content`-sized image lands inside a `container`, scaled to fit. */
export interface FitRect {
  /** left edge of the drawn image inside the container */
  x: number;
  /** top edge of the drawn image inside the container */
  y: number;
  /** drawn width */
  width: number;
  /** drawn height */
  height: number;
  /** drawn pixels per content pixel */
  scale: number;
}

export function fitRect(container: Size, content: Size, maxScale = Infinity): FitRect {
  if (content.width <= 0 || content.height <= 0 || container.width <= 0 || container.height <= 0) {
    return { x: 0, y: 0, width: 0, height: 0, scale: 0 };
  }
  const scale = Math.min(container.width / content.width, container.height / content.height, maxScale);
  const width = content.width * scale;
  const height = content.height * scale;
  return {
    x: (container.width - width) / 2,
    y: (container.height - height) / 2,
    width,
    height,
    scale,
  };
}

/**
 * Canvas (container) coordinates to video pixels. Returns null when the position lies
 * on a letterbox bar, outside the picture.
 */
export function canvasToVideo(p: Vec, fit: FitRect, video: Size): Vec | null {
  if (fit.scale <= 0) return null;
  const x = (p.x - fit.x) / fit.scale;
  const y = (p.y - fit.y) / fit.scale;
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

/** Video pixels to canvas (container) coordinates. */
export function videoToCanvas(p: Vec, fit: FitRect): Vec {
  return { x: fit.x + p.x * fit.scale, y: fit.y + p.y * fit.scale };
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
