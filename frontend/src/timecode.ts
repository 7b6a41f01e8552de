// Frame numbers, timecodes and durations as shown in the UI.

/** Seconds of frame `index` (0-based) at `fps`. */
export function frameTime(index: number, fps: number): number {
  return fps > 0 ? index / fps : 0;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/**
 * Timecode `HH:MM:SS:FF` of frame `index`: whole seconds plus the frame within that
 * second (non-drop-frame; for fractional rates like 29.97 the frame count within the
 * second is derived from the exact time).
 */
export function formatTimecode(index: number, fps: number): string {
  if (!(fps > 0) || index < 0) return "00:00:00:00";
  const t = index / fps;
  const secs = Math.floor(t + 1e-9);
  let ff = Math.floor((t - secs) * fps + 1e-6);
  const maxFf = Math.max(0, Math.ceil(fps) - 1);
  if (ff > maxFf) ff = maxFf;
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}:${pad(ff)}`;
}

/** How SMPTE labels count at a rate: `rate` labels a second (the nominal round(fps)), `drop` of
 * them skipped each minute but every tenth (2 at 29.97, 4 at 59.94; 0: non-drop). */
interface Smpte {
  rate: number;
  drop: number;
}

/** null when drop-frame is asked at a rate that has none (only multiples of 30 drop). */
function smpte(fps: number, dropFrame: boolean): Smpte | null {
  const rate = Math.round(fps);
  if (rate < 1 || (dropFrame && rate % 30 !== 0)) return null;
  return { rate, drop: dropFrame ? rate / 15 : 0 };
}

/** Labels a day holds: 144 ten-minute blocks, 9 minutes of each drop. */
const labelsPerDay = (c: Smpte) => 86400 * c.rate - 1296 * c.drop;

/** Labels counted from 00:00:00:00 to `hh:mm:ss:ff` (whose fields are in range). */
function labelIndex([hh, mm, ss, ff]: number[], c: Smpte): number {
  const minutes = 60 * hh + mm;
  return (3600 * hh + 60 * mm + ss) * c.rate + ff - c.drop * (minutes - Math.floor(minutes / 10));
}

/** The label `n` labels after 00:00:00:00, within a day. */
function labelAt(n: number, c: Smpte): string {
  if (c.drop) {
    // Put back the labels skipped before this frame, then count as non-drop.
    const perTen = 600 * c.rate - 9 * c.drop;
    const rest = n % perTen;
    n += c.drop * (9 * Math.floor(n / perTen) + Math.floor(Math.max(rest - c.drop, 0) / (60 * c.rate - c.drop)));
  }
  const secs = Math.floor(n / c.rate);
  return `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}${c.drop ? ";" : ":"}${pad(n % c.rate)}`;
}

/**
 * The SMPTE label `frames` after `start` (the source's first frame's, `HH:MM:SS:FF`, or
 * `HH:MM:SS;FF` for drop-frame), counted at the nominal rate round(fps) as the exports stamp
 * it (backend media/timecode.py): drop-frame skips labels 0 and 1 (0..3 at 59.94) each minute
 * but every tenth. null when `start` is not a label at `fps`.
 */
export function sourceTimecode(start: string, frames: number, fps: number): string | null {
  const m = /^(\d\d):(\d\d):(\d\d)([:;])(\d\d)$/.exec(start);
  const c = m && smpte(fps, m[4] === ";");
  if (!m || !c) return null;
  const fields = [1, 2, 3, 5].map((i) => Number(m[i]));
  if (fields[0] > 23 || fields[1] > 59 || fields[2] > 59 || fields[3] >= c.rate) return null;
  const day = labelsPerDay(c);
  return labelAt((((labelIndex(fields, c) + frames) % day) + day) % day, c);
}

/** Where the go-to field sends the playhead, or why it does not move. */
export type GotoTarget = { frame: number } | { error: string };

export interface GotoContext {
  /** The frame shown now (a `+10` counts from it). */
  frame: number;
  frameCount: number;
  fps: number;
  /** The source's start timecode: typed timecodes are then the source's labels. */
  timecode?: string | null;
  /** An image sequence's first image's number: `#1021` is then that image's frame. */
  firstNumber?: number;
}

/** `29.97`, `23.976`, `25`. */
const fpsLabel = (fps: number) => String(Number(fps.toFixed(3)));

/**
 * The frame a go-to field's text names, the inverse of the readout (`sourceTimecode` when the
 * video has a start timecode, else `formatTimecode`): a frame number (`120`), a relative offset
 * (`+10`, `-10`) or a timecode whose fields fill from the right, as in Premiere (`1:00` is 1
 * second 0 frames, `1:02:03` 1 minute 2 seconds 3 frames; `:` or `;` anywhere). A drop-frame
 * source's timecodes are its drop-frame labels, whichever separator is typed.
 */
export function parseGoto(text: string, g: GotoContext): GotoTarget {
  const t = text.trim();
  const last = Math.max(0, g.frameCount - 1);
  const inVideo = (frame: number): GotoTarget =>
    frame < 0 ? { error: `frame ${frame} is before the first frame, 0` } : frame > last ? { error: `frame ${frame} is past the last frame, ${last}` } : { frame };
  if (/^[+-]\d+$/.test(t)) return inVideo(g.frame + Number(t));
  if (/^#\d+$/.test(t)) return imageNumber(Number(t.slice(1)), last, g.firstNumber ?? 0);
  if (/^\d+$/.test(t)) return inVideo(Number(t));
  if (!/^\d{1,2}([:;]\d{1,2}){1,3}$/.test(t)) return { error: "type a frame number, a timecode hh:mm:ss:ff or +/- frames" };
  const typed = t.split(/[:;]/).map(Number);
  const [hh, mm, ss, ff] = [...Array<number>(4 - typed.length).fill(0), ...typed];
  // As the readout: the source's labels when its start timecode is one at this rate.
  const c = g.timecode && sourceTimecode(g.timecode, 0, g.fps) ? smpte(g.fps, g.timecode.includes(";")) : null;
  const frames = c ? c.rate : Math.max(1, Math.ceil(g.fps));
  const label = `${pad(hh)}:${pad(mm)}:${pad(ss)}${c?.drop ? ";" : ":"}${pad(ff)}`;
  const why =
    hh > 23 ? "hours run 00–23" : mm > 59 ? "minutes run 00–59" : ss > 59 ? "seconds run 00–59" : ff >= frames ? `frames run 00–${pad(frames - 1)} at ${fpsLabel(g.fps)} fps` : null;
  if (why) return { error: `${label} — ${why}` };
  let frame: number;
  if (c && g.timecode) {
    const n = labelIndex([hh, mm, ss, ff], c);
    if (labelAt(n, c) !== label) return { error: `${label} — drop-frame skips frames ;00–;${pad(c.drop - 1)} of each minute but every tenth` };
    const day = labelsPerDay(c);
    frame = (((n - labelIndex(g.timecode.split(/[:;]/).map(Number), c)) % day) + day) % day;
  } else {
    // The second's first frame, then `ff` on; a second of a fractional rate may lack its last.
    frame = Math.ceil((3600 * hh + 60 * mm + ss) * g.fps - 1e-6) + ff;
    if (formatTimecode(frame, g.fps) !== label) return { error: `${label} — that second has no frame ${pad(ff)} at ${fpsLabel(g.fps)} fps` };
  }
  if (frame > last) {
    const readout = (f: number) => (c && g.timecode ? sourceTimecode(g.timecode, f, g.fps) : formatTimecode(f, g.fps));
    return { error: `${label} is outside the video, ${readout(0)}–${readout(last)}` };
  }
  return { frame };
}

/** The frame of image `n` of a sequence numbered from `first`, or why there is none. */
function imageNumber(n: number, last: number, first: number): GotoTarget {
  if (!first) return { error: `only an image sequence's frames have numbers of their own (#); type ${n} for frame ${n}` };
  if (n < first) return { error: `#${n} is before the first image, #${first}` };
  if (n > first + last) return { error: `#${n} is past the last image, #${first + last}` };
  return { frame: n - first };
}

/** `1 frame`, `36 frames`. */
export function frameCountLabel(n: number): string {
  return `${n} frame${n === 1 ? "" : "s"}`;
}

/** Human duration: `4.2 s`, `1:05`, `1:02:03`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** ETA text: `12 s`, `3 min 5 s`, `1 h 2 min`. */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "–";
  const total = Math.round(seconds);
  if (total < 60) return `${total} s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s} s`;
}

/** Clamp a frame index into [0, frameCount-1]. */
export function clampFrame(index: number, frameCount: number): number {
  if (frameCount <= 0) return 0;
  return Math.min(frameCount - 1, Math.max(0, Math.round(index)));
}
