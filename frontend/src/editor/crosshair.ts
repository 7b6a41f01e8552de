// Points by keyboard: a crosshair on the frame (in stored frame pixels) that the arrows move
// while the stage has the focus, where Enter clicks and B sets a box's corners, one press each.
// Other keys stay the editor's shortcuts.
import type { Size, Vec } from "../geometry";
import type { KeyLike } from "../keyboard";
import type { Box, ClickLabel, Point } from "../points";

/** Frame pixels one arrow press moves the crosshair: a coarse step, and a fine one with Shift. */
export const STEP = 10;
export const FINE_STEP = 1;

export type CrosshairKey = { type: "move"; dx: number; dy: number } | { type: "place"; label: ClickLabel } | { type: "box" } | { type: "leave" };

const ARROWS: Record<string, [number, number]> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

/** What a key does on the focused stage; null leaves it to the editor's shortcuts (Ctrl+Z…). */
export function crosshairKey(e: KeyLike): CrosshairKey | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (e.key === "Enter") return { type: "place", label: e.shiftKey ? "negative" : "positive" };
  if (e.key === "Escape") return { type: "leave" };
  // By letter, not case: Caps Lock on still draws a box.
  if (e.key.toLowerCase() === "b" && !e.shiftKey) return { type: "box" };
  const dir = ARROWS[e.key];
  if (!dir) return null;
  const step = e.shiftKey ? FINE_STEP : STEP;
  return { type: "move", dx: dir[0] * step, dy: dir[1] * step };
}

/** The crosshair kept on the frame: x in [0, width], y in [0, height], as a click's point. */
function onFrame(at: Vec, frame: Size): Vec {
  return { x: Math.min(Math.max(at.x, 0), frame.width), y: Math.min(Math.max(at.y, 0), frame.height) };
}

export function moveCrosshair(at: Vec, dx: number, dy: number, frame: Size): Vec {
  return onFrame({ x: at.x + dx, y: at.y + dy }, frame);
}

/** Where the crosshair shows when the stage takes the focus: where it was left (the last point
 * placed), else the frame's centre. */
export function crosshairStart(last: Vec | null, frame: Size): Vec {
  return onFrame(last ?? { x: frame.width / 2, y: frame.height / 2 }, frame);
}

/** What the stage's live region says after a move: short, as it is said at every press. */
export function crosshairWords(at: Vec): string {
  return `Crosshair ${Math.round(at.x)}, ${Math.round(at.y)}`;
}

/** What it says after Enter: the point added to (or removed from) which object, then the frame's
 * count: with several objects, the object is what a listener cannot see. */
export function pointWords(point: Point, removed: boolean, object: string, summary?: string): string {
  const at = `at ${Math.round(point.x)}, ${Math.round(point.y)}`;
  const where = `${point.label} point ${removed ? "of" : "for"} ${object} ${at}`;
  const done = removed ? `Removed ${where}` : where[0].toUpperCase() + where.slice(1);
  return summary ? `${done} — ${summary}` : done;
}

/** What it says after the first B: where the box starts, and how to finish it. */
export function boxCornerWords(at: Vec): string {
  return `Box corner at ${Math.round(at.x)}, ${Math.round(at.y)}: move to the opposite corner and press B again`;
}

/** What it says after the second B: the object's new box, then the frame's count; or why there
 * is none. */
export function boxWords(box: Box | null, object: string, summary?: string): string {
  if (!box) return "No box: its corners must be at least 1 pixel apart each way";
  const done = `Box for ${object} from ${Math.round(box.x0)}, ${Math.round(box.y0)} to ${Math.round(box.x1)}, ${Math.round(box.y1)}`;
  return summary ? `${done} — ${summary}` : done;
}
