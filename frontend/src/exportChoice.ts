// What the user chose to export, per job (formats, composite colour, edge colour, mattes,
// edge adjustment), kept in localStorage and reactive: the download menu, the finished-job
// dialog, the green-screen view and the mattes shown all read the same choice, so a change in
// one shows in the others.
import { createMemo, createSignal, type Accessor } from "solid-js";
import { MATTES_CHOICES, OUTPUT_FORMATS, normaliseHexColor, type ExportOptions, type FramePart } from "./validation";

const KEY = "vidmatte.formats";

export interface ExportChoice extends ExportOptions {
  formats: string[];
  /** composite colour, six hex digits without '#' */
  background: string;
  shiftEdge: number;
  feather: number;
  reduceChatter: boolean;
}

/** How a job's mattes are shown and exported: chatter reduced, shifted, then feathered (off,
 * 0, 0: as stored). */
export type EdgeAdjust = Pick<ExportChoice, "shiftEdge" | "feather" | "reduceChatter">;
export const NO_EDGE: Readonly<EdgeAdjust> = { shiftEdge: 0, feather: 0, reduceChatter: false };

/** The bounds the API takes (`shift_edge`, `feather`, in pixels of the stored video). */
export const SHIFT_EDGE_RANGE = { min: -32, max: 32 } as const;
export const FEATHER_RANGE = { min: 0, max: 32 } as const;

export const DEFAULT_EXPORT: Readonly<ExportChoice> = {
  formats: ["alpha_png"],
  background: "00ff00",
  rawColour: false,
  mattes: "objects",
  ...NO_EDGE,
  part: null,
};

const [version, setVersion] = createSignal(0);

/** A choice as the API keeps it with a job (JobCreate.export, Job.export in docs/API.md). */
export interface JobExport {
  formats: string[];
  background: string;
  fg: "estimated" | "raw" | null;
  mattes: "objects" | "union" | "both";
  shift_edge: number;
  feather: number;
  reduce_chatter: boolean;
}

/** `choice` as the API takes it; the frame's raw colour is its `fg=raw`, else the server's default.
 * A colour field left half-typed while no composite is chosen (the form lets it be) is sent as
 * the default, which the server takes. */
export function toJobExport(choice: ExportChoice): JobExport {
  const background = normaliseHexColor(choice.background) ?? DEFAULT_EXPORT.background;
  return {
    formats: [...choice.formats],
    background,
    fg: choice.rawColour ? "raw" : null,
    mattes: choice.mattes ?? "objects",
    shift_edge: choice.shiftEdge,
    feather: choice.feather,
    reduce_chatter: choice.reduceChatter,
  };
}

/** `v` within `range` when it is a number, else 0 (none): a stored or served value can't ask
 * the server for what it refuses. */
export function clampEdge(v: unknown, range: { min: number; max: number }): number {
  return typeof v === "number" && Number.isFinite(v) ? Math.min(range.max, Math.max(range.min, v)) : 0;
}

/** The job's frames a download holds: `part` within the job's range, or null (all of them)
 * where it is missing, malformed, or covers the whole range (the archive's default). */
export function partOf(part: unknown, job: { start?: number; end?: number }): FramePart | null {
  if (typeof job.start !== "number" || typeof job.end !== "number" || typeof part !== "object" || part === null) return null;
  const { start, end } = part as { start?: unknown; end?: unknown };
  if (!Number.isInteger(start) || !Number.isInteger(end)) return null;
  const [first, last] = [Math.max(job.start, start as number), Math.min(job.end, end as number)];
  return first > last || (first === job.start && last === job.end) ? null : { start: first, end: last };
}

/** A stored or served choice, checked field by field (unknown formats dropped, defaults filled in). */
function normalise(v: { formats?: unknown; background?: unknown; rawColour?: unknown; mattes?: unknown; shiftEdge?: unknown; feather?: unknown; reduceChatter?: unknown; part?: unknown }, job: { start?: number; end?: number } = {}): ExportChoice {
  const known = new Set<string>(OUTPUT_FORMATS.map((f) => f.id));
  const formats = Array.isArray(v.formats) ? v.formats.filter((f): f is string => typeof f === "string" && known.has(f)) : [];
  return {
    formats: formats.length ? formats : [...DEFAULT_EXPORT.formats],
    background: normaliseHexColor(typeof v.background === "string" ? v.background : "") ?? DEFAULT_EXPORT.background,
    rawColour: v.rawColour === true,
    mattes: MATTES_CHOICES.find((m) => m.id === v.mattes)?.id ?? "objects",
    shiftEdge: clampEdge(v.shiftEdge, SHIFT_EDGE_RANGE),
    feather: clampEdge(v.feather, FEATHER_RANGE),
    reduceChatter: v.reduceChatter === true,
    part: partOf(v.part, job),
  };
}

function read(key: string, job?: { start?: number; end?: number }): ExportChoice | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? normalise(JSON.parse(raw), job) : null;
  } catch {
    return null;
  }
}

/**
 * The export choice of `job`: what a download menu in this browser last chose for it, else
 * what was chosen with it when it was made (kept by the server, so another browser sees it
 * too), else the defaults (never the last choice made for another job: a silent surprise).
 * Reactive: reading it in a component or effect follows later saves.
 */
export function exportChoice(job: { id: string; export?: JobExport | null; start?: number; end?: number }): ExportChoice {
  version();
  const served = job.export;
  // A job kept before there were edge adjustments has none: normalise reads them as 0 (off).
  // A part of its frames is this browser's alone (a new job is made for its whole range).
  const chosen =
    read(`${KEY}.${job.id}`, job) ??
    (served ? normalise({ ...served, rawColour: served.fg === "raw", shiftEdge: served.shift_edge, reduceChatter: served.reduce_chatter }) : null);
  return chosen ?? { ...DEFAULT_EXPORT, formats: [...DEFAULT_EXPORT.formats] };
}

/** The edge adjustment of `job`'s export choice (none without a job), as a memo that changes
 * only with it: the mattes shown are asked for again when it changes, not at any other save. */
export function createEdge(job: Accessor<{ id: string; export?: JobExport | null } | undefined>): Accessor<EdgeAdjust> {
  return createMemo(
    () => {
      const j = job();
      if (!j) return NO_EDGE;
      const { shiftEdge, feather, reduceChatter } = exportChoice(j);
      return { shiftEdge, feather, reduceChatter };
    },
    NO_EDGE,
    { equals: (a, b) => a.shiftEdge === b.shiftEdge && a.feather === b.feather && a.reduceChatter === b.reduceChatter },
  );
}

/** What a new Matting dialog shows of an export choice: all a new job takes from earlier ones. */
export type DialogChoice = Pick<ExportChoice, "formats" | "background">;

/** The formats and colour last chosen anywhere, where a new Matting dialog starts (reactive,
 * like `exportChoice`). */
export function lastChoice(): DialogChoice {
  version();
  const { formats, background } = read(KEY) ?? DEFAULT_EXPORT;
  return { formats: [...formats], background };
}

/** Keep `choice` for job `jid`, and what a Matting dialog shows of it as the last choice:
 * raw colour, mattes and the edge adjustment stay with the job, since a new job can't show
 * them (they would reach it unseen). */
export function saveExportChoice(choice: ExportChoice, jid: string): void {
  const last: DialogChoice = { formats: choice.formats, background: choice.background };
  try {
    localStorage.setItem(KEY, JSON.stringify(last));
    localStorage.setItem(`${KEY}.${jid}`, JSON.stringify(choice));
  } catch {
    /* storage unavailable: choices are just not remembered */
  }
  setVersion((v) => v + 1);
}

/** Readable names of output formats, for buttons and titles ("Alpha PNG sequence, ProRes 4444"). */
export function formatLabels(ids: readonly string[]): string[] {
  return ids.map((id) => OUTPUT_FORMATS.find((f) => f.id === id)?.label ?? id);
}
