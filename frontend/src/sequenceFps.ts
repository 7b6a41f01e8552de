// The frame rate an image sequence (a zip) is made a video at: the editor asks for it before
// the upload, remembers the last one in localStorage, and sends it as the upload's `fps`
// field; or sends none, so that the server takes the rate the images state (EXR and DPX
// carry one; PNG, JPEG and TIFF do not: 24). Rendered once by <SequenceFpsHost/>.
import { createSignal } from "solid-js";

const KEY = "vidmatte.sequenceFps";
export const MIN_FPS = 1;
export const MAX_FPS = 240; // the server's range (media/sequence.py)
export const DEFAULT_FPS = 24; // the server's, for images that state no rate

/** A rate to send, or STATED: none sent, the images' own (else DEFAULT_FPS). */
export const STATED = "stated";
export type SequenceFps = number | typeof STATED;

/** Sent as written: the server takes 23.976, 29.97 and 59.94 as the NTSC rates n·1000/1001. */
export const FPS_PRESETS: { label: string; fps: number }[] = ["23.976", "24", "25", "29.97", "30", "48", "50", "59.94", "60"].map((label) => ({
  label,
  fps: Number(label),
}));

/** A typed rate: a decimal number in MIN_FPS..MAX_FPS, or why not. */
export function parseFps(text: string): { fps: number } | { error: string } {
  const t = text.trim();
  const error = `Enter a frame rate from ${MIN_FPS} to ${MAX_FPS} fps, e.g. 25 or 23.976.`;
  if (!/^(\d+\.?\d*|\.\d+)$/.test(t)) return { error };
  const n = Number(t);
  if (n < MIN_FPS || n > MAX_FPS) return { error };
  return { fps: n };
}

/** The label the dialog shows for `fps`: a preset's, else the number. */
export function fpsLabel(fps: number): string {
  return FPS_PRESETS.find((p) => p.fps === fps)?.label ?? String(fps);
}

/** The choice last made in this browser, else the images' own rate. */
export function lastSequenceFps(): SequenceFps {
  try {
    const n = Number(localStorage.getItem(KEY));
    return n >= MIN_FPS && n <= MAX_FPS ? n : STATED;
  } catch {
    return STATED;
  }
}

function saveSequenceFps(fps: SequenceFps): void {
  try {
    localStorage.setItem(KEY, String(fps));
  } catch {
    /* storage unavailable: the rate is just not remembered */
  }
}

/** A zip or a tar (a folder packed by folders.ts), by its name or its type: it holds an
 * image sequence. */
export function isImageSequence(file: File): boolean {
  return /\.(zip|tar)$/i.test(file.name) || /^application\/(x-)?(zip(-compressed)?|tar)$/.test(file.type);
}

export interface FpsRequest {
  fileName: string;
  initial: SequenceFps;
  /** The choice, or null: cancelled. */
  resolve: (fps: SequenceFps | null) => void;
}

const [pending, setPending] = createSignal<FpsRequest | null>(null);
export { pending as pendingFps };

/** Ask for the frame rate of the sequence in `fileName`; null when cancelled. A choice made
 * is remembered as the next one's default. */
export function askSequenceFps(fileName: string): Promise<SequenceFps | null> {
  pending()?.resolve(null);
  return new Promise((resolve) => {
    setPending({
      fileName,
      initial: lastSequenceFps(),
      resolve: (fps) => {
        setPending(null);
        if (fps !== null) saveSequenceFps(fps);
        resolve(fps);
      },
    });
  });
}
