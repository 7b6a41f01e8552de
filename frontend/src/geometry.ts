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
  return canvasToPicture(p, fit, video);
}

/** Canvas coordinates to stored video pixels held on the picture: a box dragged past its edge
 * ends on the edge. The API takes x in [0, width] and y in [0, height]: the edges are valid,
 * and a clamped value still rounds (roundCoord) to a value in range. */
export function canvasToPicture(p: Vec, fit: FitRect, video: Size): Vec {
  const x = (p.x - fit.x) / fit.scaleX;
  const y = (p.y - fit.y) / fit.scaleY;
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

/** The largest `max_side` the API takes (frames, previews and mattes alike). */
export const MAX_SIDE = 8192;

/**
 * Choose the `max_side` to request a frame at: enough for the displayed size times the
 * device pixel ratio, bucketed so nearby sizes share the browser cache, never above the
 * video's own size (0 = the original size) nor above what the API takes (a panorama wider
 * than MAX_SIDE, zoomed in, gets MAX_SIDE: the server refuses more).
 */
export function requestMaxSide(displayLongSide: number, videoLongSide: number, dpr = 1): number {
  const want = Math.ceil(displayLongSide * Math.max(1, dpr));
  const buckets = [320, 480, 640, 960, 1280, 1600, 1920, 2560, 3840];
  const bucket = buckets.find((b) => b >= want) ?? want;
  return bucket >= videoLongSide ? 0 : Math.min(bucket, MAX_SIDE);
}

/**
 * The `max_side` to request frames of `video` at to fill its fit in `stage`. The server scales
 * stored pixels uniformly, so the axis drawn densest per stored pixel decides: for a pixel
 * aspect above 1 that is x, and the request may exceed the drawn height's need.
 */
export function frameMaxSide(stage: Size, video: Picture, dpr = 1, zoom = 1): number {
  const f = fitRect(stage, video);
  const long = Math.max(video.width, video.height);
  // For square pixels this is the drawn long side, as before; zoomed, the picture is drawn
  // `zoom` times larger and asks for that much more (still capped at the video's own size).
  return requestMaxSide(long * Math.max(f.scaleX, f.scaleY) * Math.max(1, zoom), long, dpr);
}

// Zoom and pan of the stage. A View magnifies the fitted picture: `zoom` times the fit (1 =
// fitted), moved by (x, y) fitted picture sizes from where the zoomed picture would be centred:
// in those units a stage resized while zoomed still shows the same part of the picture.
// Everything drawn and every click maps through `viewRect(fit, view)`, a FitRect like the fit
// itself, so canvasToVideo and videoToCanvas need no change.

export interface View {
  /** magnification of the fit: 1 (fitted) to MAX_ZOOM */
  zoom: number;
  /** pan across, in fitted picture widths, from the centred position */
  x: number;
  /** pan down, in fitted picture heights, from the centred position */
  y: number;
}

export const FIT_VIEW: View = { zoom: 1, x: 0, y: 0 };
export const MAX_ZOOM = 16;
/** One key press of zoom in or out: two presses double. */
export const ZOOM_STEP = Math.SQRT2;

/** The fitted picture magnified and moved by `view`. */
export function viewRect(fit: FitRect, view: View): FitRect {
  const z = view.zoom;
  const width = fit.width * z;
  const height = fit.height * z;
  // fit is centred in its container: its centre is the container's.
  return {
    x: fit.x + (fit.width - width) / 2 + view.x * fit.width,
    y: fit.y + (fit.height - height) / 2 + view.y * fit.height,
    width,
    height,
    scaleX: fit.scaleX * z,
    scaleY: fit.scaleY * z,
  };
}

/** `view` with its zoom in [1, MAX_ZOOM] and its pan within the limits; at 1×, the fit. */
export function clampPan(view: View): View {
  const zoom = clamp(Number.isFinite(view.zoom) ? view.zoom : 1, 1, MAX_ZOOM);
  if (zoom === 1) return FIT_VIEW;
  // How far the zoomed picture may move each way: it always covers where the fitted picture
  // lies (some of it fills the view, no bar wider than the fit's shows, at 1× it is centred).
  // Zooming in about any point of the picture stays within this.
  const limit = (zoom - 1) / 2;
  // `+ 0` turns a clamped -0 into 0 (views compare and print the same).
  return { zoom, x: clamp(view.x, -limit, limit) + 0, y: clamp(view.y, -limit, limit) + 0 };
}

/** Zoom by `factor` about `anchor` (container pixels): what shows under the anchor stays under
 * it. Zooming in about a point of the picture always can; zooming out, or about a bar, the
 * pan limits may move the picture. */
export function zoomAt(view: View, fit: FitRect, anchor: Vec, factor: number): View {
  const zoom = clamp(view.zoom * factor, 1, MAX_ZOOM);
  const r = viewRect(fit, view);
  if (r.width <= 0 || r.height <= 0) return FIT_VIEW;
  // The anchor's place in the picture, as a fraction of its size, kept at the new size.
  const u = (anchor.x - r.x) / r.width;
  const v = (anchor.y - r.y) / r.height;
  const centred = viewRect(fit, { zoom, x: 0, y: 0 });
  const x = (anchor.x - u * centred.width - centred.x) / fit.width;
  return clampPan({ zoom, x, y: (anchor.y - v * centred.height - centred.y) / fit.height });
}

/** Move the picture by (dx, dy) container pixels, within the pan limits. */
export function panBy(view: View, fit: FitRect, dx: number, dy: number): View {
  if (fit.width <= 0 || fit.height <= 0) return FIT_VIEW;
  return clampPan({ zoom: view.zoom, x: view.x + dx / fit.width, y: view.y + dy / fit.height });
}

/** The least pan that brings `at` (container pixels) `margin` pixels inside a stage of
 * `size`: the keyboard's crosshair, moved off a zoomed view, takes the view along. */
export function panToShow(view: View, fit: FitRect, at: Vec, size: Size, margin = 24): View {
  const shift = (p: number, extent: number) => {
    const m = Math.min(margin, extent / 2);
    return p < m ? m - p : p > extent - m ? extent - m - p : 0;
  };
  return panBy(view, fit, shift(at.x, size.width), shift(at.y, size.height));
}

/** The zoom factor of one wheel event: a mouse wheel's notch (100 px) zooms about 1.2×, a
 * trackpad pinch (a wheel event with ctrlKey, small deltas) follows the fingers. */
export function wheelZoomFactor(deltaY: number, deltaMode: number, pinch: boolean): number {
  // deltaMode 1: lines, 2: pages (Firefox with some mice); 0: pixels.
  const px = deltaY * (deltaMode === 1 ? 16 : deltaMode === 2 ? 400 : 1);
  return Math.exp(-px * (pinch ? 0.01 : 0.002));
}
