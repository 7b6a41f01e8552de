// A project's track (docs/API.md, "Track"): SAM2 alone over a range, a small mask per frame,
// shown over every frame while scrubbing; frames to check are marked on the seek bar.
import { ApiError, made, recheckProject, send } from "./api";
import { adjacentFrame } from "./points";
import { followEvents } from "./sse";
import { formatEta } from "./timecode";

export type TrackStatus = "running" | "done" | "cancelled" | "failed" | "interrupted";

export interface TrackFlag {
  frame: number;
  object_id: number;
  reason: "lost" | "area jump" | "moved";
}

export interface Track {
  project_id: string;
  status: TrackStatus;
  start: number;
  end: number;
  object_ids: number[];
  mask_width: number;
  mask_height: number;
  run: { start: number; end: number; object_ids: number[] };
  frames_done: number;
  frames_total: number;
  fps: number | null;
  eta_seconds: number | null;
  error: string | null;
  stale: boolean;
  /** Frames with masks, as [first, last] runs; they grow while the track runs. */
  tracked: [number, number][];
  flags: TrackFlag[];
}

const base = (pid: string) => `/api/projects/${encodeURIComponent(pid)}/track`;

export function isTrack(v: unknown): v is Track {
  if (!v || typeof v !== "object") return false;
  const t = v as Record<string, unknown>;
  return (
    typeof t.project_id === "string" &&
    typeof t.status === "string" &&
    typeof t.start === "number" &&
    typeof t.end === "number" &&
    typeof t.frames_done === "number" &&
    typeof t.stale === "boolean" &&
    Array.isArray(t.tracked) &&
    Array.isArray(t.flags)
  );
}

/** The overlay of every tracked object on `frame`; `version` makes a re-run's masks load anew. */
export function trackMaskUrl(pid: string, frame: number, version: number): string {
  return `${base(pid)}/masks/${frame}?v=${version}`;
}

/** Whether `frame` has a mask to show: tracked already (a running track's grow frame by frame). */
export function hasMask(track: Track | null, frame: number): boolean {
  return !!track && track.tracked.some(([first, last]) => first <= frame && frame <= last);
}

/** Seek-bar marks: one per flagged frame, with its reasons ("Dog: lost, Dancer: moved"). */
export function flagMarks(track: Track | null, nameOf: (oid: number) => string): { frame: number; why: string }[] {
  if (!track) return [];
  const byFrame = new Map<number, string[]>();
  for (const f of track.flags) byFrame.set(f.frame, [...(byFrame.get(f.frame) ?? []), `${nameOf(f.object_id)}: ${f.reason}`]);
  return [...byFrame.entries()].sort((a, b) => a[0] - b[0]).map(([frame, why]) => ({ frame, why: why.join(", ") }));
}

/** The nearest flagged frame after (`direction` 1) or before (-1) `frame`, or null. */
export function adjacentFlaggedFrame(track: Track | null, frame: number, direction: -1 | 1): number | null {
  return adjacentFrame(track?.flags.map((f) => f.frame) ?? [], frame, direction);
}

/** "12 / 40 frames · 9.5 fps · 3 s left" while running; how it ended otherwise. */
export function trackProgressText(track: Track): string {
  const frames = `${track.frames_done} / ${track.frames_total} frames`;
  if (track.status === "running") {
    const fps = track.fps ? `${track.fps >= 10 ? track.fps.toFixed(0) : track.fps.toFixed(1)} fps` : "–";
    return `${frames} · ${fps} · ${formatEta(track.eta_seconds)} left`;
  }
  if (track.status === "done") return `tracked ${track.start}–${track.end}`;
  if (track.status === "failed") return `failed: ${track.error ?? "unknown error"}`;
  // A run the server's own stop cut short: the server says why and what to do.
  if (track.status === "interrupted" && track.error) return `interrupted: ${track.error}`;
  return `${track.status} at ${frames}`;
}

/** A track request. Through the client all requests share (api.ts send), so a refusal here
 * shows as any other's does: the token asked for, a project deleted elsewhere shown gone. */
async function call(method: string, path: string, body?: unknown): Promise<Track | null> {
  let res: Response;
  try {
    res = await send(method, path, body);
  } catch (e) {
    if (method === "GET" && e instanceof ApiError && e.status === 404) return null; // no track yet
    throw e;
  }
  return asTrack(await res.json().catch(() => null));
}

/** A track the server answered, checked. */
function asTrack(data: unknown): Track {
  if (!isTrack(data)) throw new Error("The server's answer does not describe a track.");
  return data;
}

export const trackApi = {
  get: (pid: string) => call("GET", base(pid)),
  /** Retried with its Idempotency-Key when the answer is lost: never two runs for one click. */
  start: (pid: string, start: number, end: number) => made<unknown>(base(pid), { start, end }).then(asTrack),
  cancel: (pid: string) => call("DELETE", base(pid)) as Promise<Track>,
};

/** One `progress` event's data as a track; throws on anything else. */
function parseTrackData(data: string): Track {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    value = null;
  }
  if (!isTrack(value)) throw new Error("A track event does not describe a track.");
  return value;
}

/**
 * Follow a running track through its events until it stops; when the stream breaks, read it
 * until it stops. `onTrack(null)`: the track is gone (its project deleted meanwhile: its stream
 * says so, and the editor asks after the project). Returns a stop function.
 */
export function followTrack(pid: string, onTrack: (t: Track | null) => void, onError: (message: string) => void): () => void {
  return followEvents<Track | null>({
    url: `${base(pid)}/events`,
    parse: parseTrackData,
    poll: () => trackApi.get(pid),
    isLast: (t) => t?.status !== "running",
    onValue: onTrack,
    onGone: () => {
      onTrack(null);
      void recheckProject(pid);
    },
    onError,
    subject: "Tracking progress",
  });
}
