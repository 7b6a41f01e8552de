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

/**
 * The SMPTE label `frames` after `start` (the source's first frame's, `HH:MM:SS:FF`, or
 * `HH:MM:SS;FF` for drop-frame), counted at the nominal rate round(fps) as the exports stamp
 * it (backend media/timecode.py): drop-frame skips labels 0 and 1 (0..3 at 59.94) each minute
 * but every tenth. null when `start` is not a label at `fps`.
 */
export function sourceTimecode(start: string, frames: number, fps: number): string | null {
  const m = /^(\d\d):(\d\d):(\d\d)([:;])(\d\d)$/.exec(start);
  const rate = Math.round(fps);
  if (!m || rate < 1) return null;
  const [hh, mm, ss, ff] = [1, 2, 3, 5].map((i) => Number(m[i]));
  const drop = m[4] === ";" ? (rate % 30 === 0 ? rate / 15 : -1) : 0;
  if (drop < 0 || hh > 23 || mm > 59 || ss > 59 || ff >= rate) return null;
  const minutes = 60 * hh + mm;
  const day = 86400 * rate - 1296 * drop; // 144 ten-minute blocks, 9 minutes of each drop
  let n = (((3600 * hh + 60 * mm + ss) * rate + ff - drop * (minutes - Math.floor(minutes / 10)) + frames) % day + day) % day;
  if (drop) {
    // Put back the labels skipped before this frame, then count as non-drop.
    const perTen = 600 * rate - 9 * drop;
    const rest = n % perTen;
    n += drop * (9 * Math.floor(n / perTen) + Math.floor(Math.max(rest - drop, 0) / (60 * rate - drop)));
  }
  const sep = drop ? ";" : ":";
  const secs = Math.floor(n / rate);
  return `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}${sep}${pad(n % rate)}`;
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
