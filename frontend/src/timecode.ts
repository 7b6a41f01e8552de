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
