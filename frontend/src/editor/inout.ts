// The In/Out work range of a project (I and O, as in an editing suite): the frames Track runs
// over, the Matting dialog starts from and playback loops in. Kept per project in localStorage,
// so that a reload or a return to the project keeps the shot the user works on.
import { createSignal, type Accessor } from "solid-js";

/** In and Out frames, both inclusive; null where unset. In ≤ Out when both are set. */
export interface InOut {
  in: number | null;
  out: number | null;
}

export interface FrameRange {
  start: number;
  end: number;
}

export const NO_INOUT: InOut = { in: null, out: null };

/** In at `frame`; an Out before it goes (as Premiere does: the range never runs backwards). */
export function setIn(r: InOut, frame: number): InOut {
  return { in: frame, out: r.out !== null && r.out < frame ? null : r.out };
}

/** Out at `frame`; an In after it goes. */
export function setOut(r: InOut, frame: number): InOut {
  return { in: r.in !== null && r.in > frame ? null : r.in, out: frame };
}

const isFrame = (v: unknown, frameCount: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < frameCount;

/** A stored range made valid for a video of `frameCount` frames: a frame the video lacks (it was
 * re-uploaded shorter, or the value was edited) is dropped, and so is an Out before the In. */
export function clampInOut(raw: unknown, frameCount: number): InOut {
  if (!raw || typeof raw !== "object") return NO_INOUT;
  const { in: i, out: o } = raw as Record<string, unknown>;
  const r: InOut = { in: isFrame(i, frameCount) ? i : null, out: isFrame(o, frameCount) ? o : null };
  return r.in !== null && r.out !== null && r.out < r.in ? NO_INOUT : r;
}

/** The frames In..Out cover: a lone In runs to the last frame, a lone Out from frame 0; null
 * when neither is set. */
export function workRange(r: InOut, frameCount: number): FrameRange | null {
  if (r.in === null && r.out === null) return null;
  return { start: r.in ?? 0, end: r.out ?? Math.max(0, frameCount - 1) };
}

/** The frames Track runs over: In..Out, else the whole clip. */
export function trackRange(r: InOut, frameCount: number): FrameRange {
  return workRange(r, frameCount) ?? { start: 0, end: Math.max(0, frameCount - 1) };
}

/** The Matting dialog's first range: In..Out when set, else the prompted range, else the clip. */
export function mattingRange(r: InOut, frameCount: number, prompted: FrameRange | null): FrameRange {
  return workRange(r, frameCount) ?? prompted ?? { start: 0, end: Math.max(0, frameCount - 1) };
}

/** The frames playback loops over: In..Out (the shot worked on), else the viewed result's
 * range, else the clip. */
export function playRange(r: InOut, frameCount: number, result: FrameRange | undefined): FrameRange {
  return workRange(r, frameCount) ?? result ?? { start: 0, end: Math.max(0, frameCount - 1) };
}

/** The transport's readout: "In 12 – Out 80 (69 frames)", "In 12", "Out 80"; null when unset. */
export function inoutText(r: InOut): string | null {
  if (r.in !== null && r.out !== null) {
    const n = r.out - r.in + 1;
    return `In ${r.in} – Out ${r.out} (${n} frame${n === 1 ? "" : "s"})`;
  }
  if (r.in !== null) return `In ${r.in}`;
  if (r.out !== null) return `Out ${r.out}`;
  return null;
}

const key = (pid: string) => `vidmatte.inout.${pid}`;

export function readInOut(storage: Storage | null, pid: string, frameCount: number): InOut {
  try {
    const raw = storage?.getItem(key(pid));
    return raw ? clampInOut(JSON.parse(raw), frameCount) : NO_INOUT;
  } catch {
    return NO_INOUT; // unreadable or unavailable storage: no range
  }
}

export function writeInOut(storage: Storage | null, pid: string, r: InOut): void {
  try {
    if (r.in === null && r.out === null) storage?.removeItem(key(pid));
    else storage?.setItem(key(pid), JSON.stringify(r));
  } catch {
    /* storage unavailable: the range is just not remembered */
  }
}

export interface InOutState {
  range: Accessor<InOut>;
  /** What the live region says after the last change (set or cleared). */
  said: Accessor<string>;
  setIn: (frame: number) => void;
  setOut: (frame: number) => void;
  clear: () => void;
}

export function createInOut(pid: string, frameCount: () => number, storage: Storage | null = globalThis.localStorage ?? null): InOutState {
  const [range, setRange] = createSignal<InOut>(readInOut(storage, pid, frameCount()));
  const [said, setSaid] = createSignal("");
  const change = (next: InOut, words: string) => {
    setRange(next);
    writeInOut(storage, pid, next);
    setSaid(words);
  };
  return {
    range,
    said,
    setIn: (f) => {
      const next = setIn(range(), f);
      change(next, `In set at frame ${f}${range().out !== null && next.out === null ? "; Out cleared (it was before In)" : ""}`);
    },
    setOut: (f) => {
      const next = setOut(range(), f);
      change(next, `Out set at frame ${f}${range().in !== null && next.in === null ? "; In cleared (it was after Out)" : ""}`);
    },
    clear: () => change(NO_INOUT, "In and Out cleared"),
  };
}
