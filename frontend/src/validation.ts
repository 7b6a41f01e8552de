// Validation of the Matting dialog: range, objects, formats, background colour.
import { framesWithPoints, type PointMap } from "./points";

export const OUTPUT_FORMATS = [
  { id: "alpha_png", label: "Alpha PNG sequence", hint: "8-bit grey matte per frame" },
  { id: "alpha_png16", label: "Alpha PNG 16-bit", hint: "16-bit grey matte per frame, no banding" },
  { id: "rgba_png", label: "RGBA PNG sequence", hint: "cut-out with transparency" },
  { id: "exr", label: "OpenEXR sequence", hint: "half float, linear premultiplied RGBA, for Nuke/Fusion" },
  { id: "prores4444", label: "ProRes 4444", hint: ".mov with alpha, for editors" },
  { id: "webm_alpha", label: "WebM (VP9 + alpha)", hint: "for the web" },
  { id: "composite_mp4", label: "Composite MP4", hint: "over the background colour" },
  { id: "alpha_mp4", label: "Alpha MP4", hint: "matte as a grey video" },
] as const;

export type OutputFormat = (typeof OUTPUT_FORMATS)[number]["id"];

export interface JobDraft {
  start: number;
  end: number;
  objectIds: readonly number[];
  formats: readonly string[];
  background: string;
}

/** Why a range cannot be matted, or null when it can. */
export function validateRange(
  start: number,
  end: number,
  frameCount: number,
  objectIds: readonly number[],
  points: PointMap,
): string | null {
  if (!Number.isInteger(start) || !Number.isInteger(end)) return "Start and end must be whole frame numbers.";
  if (frameCount <= 0) return "The video has no frames.";
  if (start < 0) return "Start must be frame 0 or later.";
  if (end > frameCount - 1) return `End must be inside the video: the last frame is ${frameCount - 1}.`;
  if (start > end) return `Start (${start}) must not be after end (${end}).`;
  if (objectIds.length === 0) {
    return framesWithPoints(points).length ? "Choose at least one object." : "No object has points yet: click on the object in the frame first.";
  }
  const prompted = framesWithPoints(points, objectIds);
  if (prompted.length === 0) return "The chosen objects have no points yet: click on the object in some frame first.";
  if (!prompted.some((f) => f >= start && f <= end)) {
    const near = prompted.reduce((a, b) => (Math.abs(b - start) < Math.abs(a - start) ? b : a));
    return `No frame from ${start} to ${end} holds points of the chosen objects (nearest prompted frame: ${near}). Widen the range or add points inside it.`;
  }
  return null;
}

/** A colour as six hex digits without '#', or null when it is not one. */
export function normaliseHexColor(value: string): string | null {
  const m = /^#?([0-9a-fA-F]{6})$/.exec(value.trim());
  return m ? m[1].toLowerCase() : null;
}

/** Every reason the whole dialog cannot run, first reason first; null when it can. */
export function validateJobDraft(draft: JobDraft, frameCount: number, points: PointMap): string | null {
  const range = validateRange(draft.start, draft.end, frameCount, draft.objectIds, points);
  if (range) return range;
  if (draft.formats.length === 0) return "Choose at least one output format.";
  const known = new Set<string>(OUTPUT_FORMATS.map((f) => f.id));
  const unknown = draft.formats.find((f) => !known.has(f));
  if (unknown) return `Unknown output format: ${unknown}.`;
  if (draft.formats.includes("composite_mp4") && !normaliseHexColor(draft.background)) {
    return "The background colour must be six hex digits, like 00ff00.";
  }
  return null;
}

/** Query string for GET /api/jobs/{jid}/archive. */
export const MATTES_CHOICES = [
  { id: "objects", label: "One per object" },
  { id: "both", label: "Per object + union" },
  { id: "union", label: "Union only" },
] as const;

export type MattesChoice = (typeof MATTES_CHOICES)[number]["id"];

export interface ExportOptions {
  /** The frame's own colour instead of the estimated foreground (the server's `fg=raw`). */
  rawColour?: boolean;
  /** Several objects: each one's mattes, their union, or both. */
  mattes?: MattesChoice;
  /** Pixels the matte's edge moves out (grows) or, negative, in (chokes); the API's `shift_edge`. */
  shiftEdge?: number;
  /** Pixels of softening of the matte's edge, after the shift; the API's `feather`. */
  feather?: number;
  /** Each pixel the median of its matte on the frame and its neighbours; the API's `reduce_chatter`. */
  reduceChatter?: boolean;
  /** Part of the job's frames downloaded, first and last included (the API's `start`, `end`);
   * none: all of them. */
  part?: FramePart | null;
}

export interface FramePart {
  start: number;
  end: number;
}

/** The edge adjustment as query parameters (`shift_edge`, `feather`, `reduce_chatter`), the
 * archive's and the alpha preview's alike; each left out when off (0, false), so a URL without
 * an adjustment stays as it always was. */
export function edgeParams(edge: Pick<ExportOptions, "shiftEdge" | "feather" | "reduceChatter"> = {}): Record<string, string> {
  const params: Record<string, string> = {};
  if (edge.shiftEdge) params.shift_edge = String(edge.shiftEdge);
  if (edge.feather) params.feather = String(edge.feather);
  if (edge.reduceChatter) params.reduce_chatter = "true";
  return params;
}

export function archiveQuery(formats: readonly string[], background: string, options: ExportOptions = {}): string {
  const params = new URLSearchParams();
  params.set("formats", (formats.length ? formats : ["alpha_png"]).join(","));
  const bg = normaliseHexColor(background);
  if (bg) params.set("background", bg);
  if (options.rawColour) params.set("fg", "raw");
  if (options.mattes && options.mattes !== "objects") params.set("mattes", options.mattes);
  for (const [name, value] of Object.entries(edgeParams(options))) params.set(name, value);
  if (options.part) {
    params.set("start", String(options.part.start));
    params.set("end", String(options.part.end));
  }
  return params.toString();
}
