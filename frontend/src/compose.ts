// Result views: composing a frame with a job's alpha matte on a canvas.
import { fitRect, type FitRect, type Picture, type Size } from "./geometry";

export const OVERLAY_MODES = [
  { id: "off", label: "Prompts" },
  { id: "matte", label: "Alpha matte" },
  { id: "tint", label: "Colour tint" },
  { id: "checker", label: "Cut-out" },
  { id: "green", label: "Green screen" },
  { id: "side", label: "Side by side" },
] as const;

export type OverlayMode = (typeof OVERLAY_MODES)[number]["id"];

/** Size of the picture a mode draws for a `w`×`h` video (side by side is twice as wide). */
export function viewSize(mode: OverlayMode, w: number, h: number): { width: number; height: number } {
  return mode === "side" ? { width: w * 2 + sideGap(w), height: h } : { width: w, height: h };
}

/** Where a mode's picture of `video` is fitted on a stage of `size`, at its display shape (the
 * side-by-side view stretches both halves alike): what zoom and pan start from. */
export function stageFit(size: Size, mode: OverlayMode, video: Picture): FitRect {
  return fitRect(size, { ...viewSize(mode, video.width, video.height), pixel_aspect: video.pixel_aspect });
}

export function sideGap(w: number): number {
  return Math.round(w * 0.02);
}

/**
 * Turn a decoded grey matte (RGBA bytes, R=G=B=alpha) into a mask whose alpha channel is
 * that grey, with colour `rgb`. `out` may be `src` itself.
 */
export function greyToAlpha(src: Uint8ClampedArray, out: Uint8ClampedArray, rgb: [number, number, number] = [255, 255, 255]): Uint8ClampedArray {
  for (let i = 0; i + 3 < src.length; i += 4) {
    const a = src[i];
    out[i] = rgb[0];
    out[i + 1] = rgb[1];
    out[i + 2] = rgb[2];
    out[i + 3] = a;
  }
  return out;
}

export function hexToRgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return [0, 255, 0];
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

type Ctx = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

function makeCanvas(w: number, h: number): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = Math.max(1, Math.round(w));
  c.height = Math.max(1, Math.round(h));
  return c;
}

/** w×h, but no larger than `src`'s own pixels: zoomed in, the drawn size can be 16 times the
 * stage's, and a canvas that large holds no more detail than the image (only memory). */
function workSize(src: CanvasImageSource, w: number, h: number): [number, number] {
  const own = src instanceof HTMLImageElement ? [src.naturalWidth, src.naturalHeight] : "width" in src && typeof src.width === "number" ? [src.width, src.height as number] : [0, 0];
  return own[0] > 0 && own[1] > 0 ? [Math.min(w, own[0]), Math.min(h, own[1])] : [w, h];
}

/** A mask canvas (alpha = matte) of size w×h (at most the matte's own size), coloured `rgb`. */
export function maskCanvas(alpha: CanvasImageSource, w: number, h: number, rgb: [number, number, number]): HTMLCanvasElement {
  const c = makeCanvas(...workSize(alpha, w, h));
  const ctx = c.getContext("2d", { willReadFrequently: true });
  if (!ctx) return c;
  ctx.drawImage(alpha, 0, 0, c.width, c.height);
  const data = ctx.getImageData(0, 0, c.width, c.height);
  greyToAlpha(data.data, data.data, rgb);
  ctx.putImageData(data, 0, 0);
  return c;
}

/** The frame cut out by the matte (transparent outside). */
function cutout(frame: CanvasImageSource, mask: HTMLCanvasElement): HTMLCanvasElement {
  const c = makeCanvas(mask.width, mask.height);
  const ctx = c.getContext("2d");
  if (!ctx) return c;
  ctx.drawImage(frame, 0, 0, c.width, c.height);
  ctx.globalCompositeOperation = "destination-in";
  ctx.drawImage(mask, 0, 0, c.width, c.height);
  return c;
}

export function drawCheckerboard(ctx: Ctx, x: number, y: number, w: number, h: number, cell = 12): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, w, h);
  ctx.clip();
  ctx.fillStyle = "#9aa1ad";
  ctx.fillRect(x, y, w, h);
  ctx.fillStyle = "#656b76";
  // Only the cells on the canvas: zoomed in, the rectangle reaches far past it.
  const t = typeof ctx.getTransform === "function" ? ctx.getTransform() : null;
  const view = t && t.a > 0 && t.d > 0 ? { left: -t.e / t.a, top: -t.f / t.d, right: (ctx.canvas.width - t.e) / t.a, bottom: (ctx.canvas.height - t.f) / t.d } : null;
  const right = Math.min(w, view ? view.right - x : w);
  const bottom = Math.min(h, view ? view.bottom - y : h);
  for (let j = Math.max(0, Math.floor(((view?.top ?? y) - y) / cell)); j * cell < bottom; j++) {
    const first = Math.max(0, Math.floor(((view?.left ?? x) - x) / cell));
    // The dark cells are those where i and j are both even or both odd, as always.
    for (let i = first + ((first + j) % 2); i * cell < right; i += 2) ctx.fillRect(x + i * cell, y + j * cell, cell, cell);
  }
  ctx.restore();
}

/** One object's own matte and its colour, for the tint view of a job of several objects. */
export interface MatteLayer {
  alpha: CanvasImageSource;
  color: string;
}

export interface ComposeOptions {
  /** tint colour (#rrggbb) of the union matte */
  tint: string;
  /** background for the green-screen view (#rrggbb): the job's composite colour */
  background: string;
  /** each object's matte in its colour; when given, the tint view draws these instead of the union */
  layers?: readonly MatteLayer[];
}

/**
 * Draw `mode` into `ctx` over the rectangle (x, y, w, h) (the fitted picture; for side by
 * side, the fitted double-width picture). `alpha` may be null (no matte for this frame):
 * then the frame is drawn plain.
 */
export function composeInto(
  ctx: CanvasRenderingContext2D,
  mode: OverlayMode,
  frame: CanvasImageSource,
  alpha: CanvasImageSource | null,
  rect: { x: number; y: number; width: number; height: number },
  opts: ComposeOptions,
): void {
  const { x, y } = rect;
  if (mode === "off" || !alpha) {
    if (mode === "side") {
      const w = rect.width / 2 - sideGapScaled(rect.width);
      ctx.drawImage(frame, x, y, w, rect.height);
      drawCheckerboard(ctx, x + rect.width - w, y, w, rect.height);
      return;
    }
    ctx.drawImage(frame, x, y, rect.width, rect.height);
    return;
  }
  if (mode === "side") {
    const w = rect.width / 2 - sideGapScaled(rect.width);
    const h = rect.height;
    ctx.drawImage(frame, x, y, w, h);
    const right = x + rect.width - w;
    drawCheckerboard(ctx, right, y, w, h);
    const mask = maskCanvas(alpha, w, h, [255, 255, 255]);
    ctx.drawImage(cutout(frame, mask), right, y, w, h);
    return;
  }
  const w = rect.width;
  const h = rect.height;
  if (mode === "matte") {
    ctx.fillStyle = "#000";
    ctx.fillRect(x, y, w, h);
    ctx.drawImage(alpha, x, y, w, h);
    return;
  }
  if (mode === "tint") {
    ctx.drawImage(frame, x, y, w, h);
    const layers = opts.layers?.length ? opts.layers : [{ alpha, color: opts.tint }];
    ctx.save();
    ctx.globalAlpha = 0.55;
    for (const layer of layers) ctx.drawImage(maskCanvas(layer.alpha, w, h, hexToRgb(layer.color)), x, y, w, h);
    ctx.restore();
    return;
  }
  const mask = maskCanvas(alpha, w, h, [255, 255, 255]);
  if (mode === "checker") drawCheckerboard(ctx, x, y, w, h);
  else {
    ctx.fillStyle = opts.background;
    ctx.fillRect(x, y, w, h);
  }
  ctx.drawImage(cutout(frame, mask), x, y, w, h);
}

/** The gap between the two halves of the side-by-side view, in drawn pixels. */
function sideGapScaled(totalWidth: number): number {
  // totalWidth = 2w + 0.02w  →  gap = 0.02w = totalWidth * 0.02 / 2.02; each half loses half of it
  return (totalWidth * 0.02) / 2.02 / 2;
}
