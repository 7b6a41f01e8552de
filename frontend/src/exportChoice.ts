// What the user chose to export, per job (formats, composite colour, edge colour, mattes),
// kept in localStorage and reactive: the download menu, the finished-job dialog and the
// green-screen view all read the same choice, so a change in one shows in the others.
import { createSignal } from "solid-js";
import { MATTES_CHOICES, OUTPUT_FORMATS, normaliseHexColor, type ExportOptions } from "./validation";

const KEY = "vidmatte.formats";

export interface ExportChoice extends ExportOptions {
  formats: string[];
  /** composite colour, six hex digits without '#' */
  background: string;
}

export const DEFAULT_EXPORT: Readonly<ExportChoice> = { formats: ["alpha_png"], background: "00ff00", rawColour: false, mattes: "objects" };

const [version, setVersion] = createSignal(0);

function read(key: string): ExportChoice | null {
  try {
    const raw = localStorage.getItem(key);
    if (!raw) return null;
    const v = JSON.parse(raw) as { formats?: unknown; background?: unknown; rawColour?: unknown; mattes?: unknown };
    const known = new Set<string>(OUTPUT_FORMATS.map((f) => f.id));
    const formats = Array.isArray(v.formats) ? v.formats.filter((f): f is string => typeof f === "string" && known.has(f)) : [];
    return {
      formats: formats.length ? formats : [...DEFAULT_EXPORT.formats],
      background: normaliseHexColor(typeof v.background === "string" ? v.background : "") ?? DEFAULT_EXPORT.background,
      rawColour: v.rawColour === true,
      mattes: MATTES_CHOICES.find((m) => m.id === v.mattes)?.id ?? "objects",
    };
  } catch {
    return null;
  }
}

/**
 * The export choice of job `jid`: what its Matting dialog or download menu chose, else the
 * defaults (never the last choice made for another job, which would be a silent surprise).
 * Without `jid`: the last choice made anywhere, the starting point of a new Matting dialog.
 * Reactive: reading it in a component or effect follows later saves.
 */
export function exportChoice(jid?: string): ExportChoice {
  version();
  return read(jid ? `${KEY}.${jid}` : KEY) ?? { ...DEFAULT_EXPORT, formats: [...DEFAULT_EXPORT.formats] };
}

/** Keep `choice` for job `jid` (if given) and as the last choice. */
export function saveExportChoice(choice: ExportChoice, jid?: string): void {
  try {
    const raw = JSON.stringify(choice);
    localStorage.setItem(KEY, raw);
    if (jid) localStorage.setItem(`${KEY}.${jid}`, raw);
  } catch {
    /* storage unavailable: choices are just not remembered */
  }
  setVersion((v) => v + 1);
}

/** Readable names of output formats, for buttons and titles ("Alpha PNG sequence, ProRes 4444"). */
export function formatLabels(ids: readonly string[]): string[] {
  return ids.map((id) => OUTPUT_FORMATS.find((f) => f.id === id)?.label ?? id);
}
