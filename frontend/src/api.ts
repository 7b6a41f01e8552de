// Typed client for the vidmatte REST API (docs/API.md). All URLs are relative: the
// backend serves this app at `/` and the API under `/api` (Vite proxies it in dev).
import { createSignal } from "solid-js";
import type { EdgeAdjust, JobExport } from "./exportChoice";
import { setMaxPointsPerFrame, type Point } from "./points";
import { edgeParams } from "./validation";

// The server asks for its access token (401): the editor shows the token prompt. The token
// itself lives in an HttpOnly cookie the server sets when the page is opened with `?token=`,
// so every request, <img> and event stream carries it without this code ever seeing it.
const [tokenNeeded, setTokenNeeded] = createSignal(false);
export { tokenNeeded };
/** The id of a project the server last said does not exist (deleted in another tab, or by a
 * script): whatever view shows it re-reads the project list. */
const [projectGone, setProjectGone] = createSignal<string | null>(null, { equals: false });
export { projectGone };
const GONE = /^project '([^']+)' does not exist$/;

// Whether the server answered the last request: false once a request could not reach it (or a
// proxy in front said it is down), true again at its next answer. The editor shows it and
// holds unsaved work until it comes back (editor/connection.ts probes it meanwhile).
const [online, setOnline] = createSignal(true);
export { online, setOnline };

/** Statuses that mean "the server is not there", not "the server refused". */
const UNREACHABLE = [0, 502, 503, 504];

export interface Health {
  status: string;
  device: "cpu" | "cuda" | string;
  sam2_model: string;
  sam2_test_model: boolean;
  matting_head: string;
  version: string;
  /** VIDMATTE_MAX_POINTS_PER_FRAME: the most points one object may hold on a frame (absent, as
   * every field but `status`, when asked without the token). */
  max_points_per_frame?: number;
}

export interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  frame_count: number;
  duration: number;
  rotation: number;
  codec: string;
  has_audio: boolean;
  /** How wide one stored pixel shows relative to its height (1: square; 32/27: 16:9 DV stored
   * 720x480). width, height, frames, points and mattes are all in stored pixels. */
  pixel_aspect: number;
  /** The source's start timecode (`HH:MM:SS:FF`, `;FF` drop-frame); null or absent (an older
   * server) when it has none. */
  timecode?: string | null;
  /** An image sequence's first image's number (1001 for shot.1001.png), which its per-frame
   * exports are numbered from; 0 for a video, absent from an older server. */
  first_number?: number;
  /** What to know about how the file is read, in words for the user (cut short, alpha channel
   * ignored); empty for most videos, absent from an older server. */
  notes?: string[];
}

export interface Project {
  id: string;
  name: string;
  filename: string;
  created_at: string;
  video: VideoInfo;
  /** Whether GET .../track has a track to answer (else a 404). */
  has_track: boolean;
}

export interface MatteObject {
  id: number;
  project_id: string;
  name: string;
  color: string;
}

export interface FramePoints {
  object_id: number;
  frame: number;
  points: Point[];
}

export type JobStatus = "queued" | "running" | "done" | "failed" | "cancelled" | "interrupted";

export interface Job {
  id: string;
  project_id: string;
  status: JobStatus;
  start: number;
  end: number;
  object_ids: number[];
  frames_done: number;
  frames_total: number;
  fps: number | null;
  eta_seconds: number | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  /** The downloads chosen with the job (null: none were). */
  export?: JobExport | null;
  /** Its objects' names when it was made, by id: its archive's folders and files keep them. */
  object_names?: Record<string, string>;
  /** Whether the server would take its resume now (absent from an older server: its status
   * says, see `canResume`). */
  resumable?: boolean;
}

export const JOB_STATUSES: readonly JobStatus[] = ["queued", "running", "done", "failed", "cancelled", "interrupted"];

export function isJob(v: unknown): v is Job {
  if (!v || typeof v !== "object") return false;
  const j = v as Record<string, unknown>;
  return (
    typeof j.id === "string" &&
    typeof j.status === "string" &&
    (JOB_STATUSES as readonly string[]).includes(j.status) &&
    typeof j.start === "number" &&
    typeof j.end === "number" &&
    typeof j.frames_done === "number" &&
    typeof j.frames_total === "number"
  );
}

/** An error answer of the API, with its readable message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

/** Readable text from an error body: `{"detail": "..."}` or FastAPI's validation list. */
export function detailFromBody(body: unknown, status: number, statusText = ""): string {
  if (body && typeof body === "object" && "detail" in body) {
    const d = (body as { detail: unknown }).detail;
    if (typeof d === "string" && d) return d;
    if (Array.isArray(d)) {
      const parts = d.map((e) => {
        if (e && typeof e === "object") {
          const loc = Array.isArray((e as { loc?: unknown }).loc)
            ? ((e as { loc: unknown[] }).loc.filter((x) => x !== "body" && x !== "query").join("."))
            : "";
          const msg = String((e as { msg?: unknown }).msg ?? JSON.stringify(e));
          return loc ? `${loc}: ${msg}` : msg;
        }
        return String(e);
      });
      if (parts.length) return parts.join("; ");
    }
    if (d != null) return JSON.stringify(d);
  }
  if (status === 0) return "Cannot reach the server. Is `vidmatte serve` running?";
  if (status === 502 || status === 503 || status === 504) return `The server is not answering (${status}). Is \`vidmatte serve\` running?`;
  return `Request failed: ${status}${statusText ? ` ${statusText}` : ""}`;
}

async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    const text = await res.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return new ApiError(res.status, detailFromBody(body, res.status, res.statusText));
}

/** One API request: its error answer thrown as an ApiError, and what it tells of the server on
 * the way (online or not, the token asked for, the project gone). `headers` go with it. */
export async function send(method: string, path: string, body?: unknown, signal?: AbortSignal, headers?: Record<string, string>): Promise<Response> {
  let res: Response;
  const all = { ...headers, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) };
  try {
    res = await fetch(path, {
      method,
      signal,
      headers: Object.keys(all).length ? all : undefined,
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    setOnline(false);
    throw new ApiError(0, detailFromBody(null, 0));
  }
  setOnline(!UNREACHABLE.includes(res.status));
  if (res.status === 401) setTokenNeeded(true);
  if (!res.ok) {
    const error = await errorFromResponse(res);
    const gone = res.status === 404 ? GONE.exec(error.detail) : null;
    if (gone) setProjectGone(gone[1]);
    throw error;
  }
  return res;
}

/** Whether `token` is this server's: a request that carries it gets past the 401. */
export async function tokenIsRight(token: string): Promise<boolean> {
  // A header carries no character past U+00FF (fetch throws): pasted with a zero-width space or
  // a typographic dash, it is not the token the server made.
  if (/[^\u0000-\u00ff]/.test(token)) return false;
  try {
    await send("GET", "/api/projects", undefined, undefined, { Authorization: `Bearer ${token}` });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return false;
    throw e;
  }
}

/** Reload the editor signed in: the server trades `?token=` for the session cookie and
 * redirects to the page without it, so the token leaves the address bar at once. */
export function signIn(token: string): void {
  window.location.replace(`/?token=${encodeURIComponent(token)}${window.location.hash}`);
}

async function json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await send(method, path, body, signal);
  return (await res.json()) as T;
}

/** A fresh Idempotency-Key: one per user action, the same for each retry of it. randomUUID
 * exists only in secure contexts (https, localhost): a server reached over plain http on a
 * network gets random hex from getRandomValues, which every context has. */
export function requestKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Waits before each retry of a POST whose answer was lost. */
export const RETRY_DELAYS_MS = [1000, 3000];

/** Whether the server refused a POST because an earlier one with its Idempotency-Key is still
 * being answered (409): what it makes is on its way, and a later try with the key gets it. */
export function isStillAnswered(e: unknown): boolean {
  return e instanceof ApiError && e.status === 409 && e.detail.startsWith("a request with Idempotency-Key");
}

/** Whether a POST sent with an Idempotency-Key is worth sending again with it: its answer was
 * lost (no connection, a proxy's 502/503/504), or its first try is still being answered. */
function worthRetrying(e: unknown): boolean {
  return isUnreachable(e) || isStillAnswered(e);
}

/** What `retrying` tells before each wait: the error of the try that failed, the try about to
 * be made (2 for the first retry) and how long it waits first. */
interface RetryNote {
  error: ApiError;
  attempt: number;
  delayMs: number;
}

/** Waits `ms`, or rejects with `signal`'s reason as soon as it is aborted. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((wake, stop) => {
    if (signal?.aborted) return stop(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      stop(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      wake();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `once(attempt)` (0 for the first try), tried again `delaysMs` apart while its error is worth
 * retrying (worthRetrying); the last error is thrown once the tries run out or one is not worth
 * retrying. An abort of `signal` throws its reason before the next try and ends a wait at once
 * (a try in flight is the try's to stop). `onRetry` hears of each retry before its wait. */
async function retrying<T>(
  once: (attempt: number) => Promise<T>,
  delaysMs: readonly number[],
  signal?: AbortSignal,
  onRetry?: (note: RetryNote) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw signal.reason;
    try {
      return await once(attempt);
    } catch (e) {
      if (attempt >= delaysMs.length || !worthRetrying(e)) throw e;
      const delayMs = delaysMs[attempt];
      onRetry?.({ error: e as ApiError, attempt: attempt + 2, delayMs });
      await pause(delayMs, signal);
    }
  }
}

/** POST `path`, which makes something, with an Idempotency-Key; tried again with the same key
 * while the answer is lost: the server makes it once and gives its first answer again. `key`:
 * the action's, when the action itself is tried again later (a click held until the server is
 * back), so that its lost first answer is given again instead of a second thing made. An abort
 * of `signal` stops the try on its way and those after it. */
export function made<T>(path: string, body: unknown, key = requestKey(), signal?: AbortSignal): Promise<T> {
  const headers = { "Idempotency-Key": key };
  return retrying(async () => (await send("POST", path, body, signal, headers)).json() as Promise<T>, RETRY_DELAYS_MS, signal);
}

async function blob(method: string, path: string, signal?: AbortSignal): Promise<Blob> {
  const res = await send(method, path, undefined, signal);
  return await res.blob();
}

const enc = encodeURIComponent;

function withQuery(path: string, query: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

// ---- URLs (also used directly by <img>/<a>) ----
export const urls = {
  thumbnail: (pid: string) => `/api/projects/${enc(pid)}/thumbnail`,
  frame: (pid: string, index: number, maxSide?: number) =>
    withQuery(`/api/projects/${enc(pid)}/frames/${index}`, { max_side: maxSide || undefined }),
  /** A job's matte of frame `index`, with `edge` (the job's export choice) applied by the server. */
  alpha: (jid: string, index: number, maxSide?: number, edge?: EdgeAdjust) =>
    withQuery(`/api/jobs/${enc(jid)}/alpha/${index}`, { max_side: maxSide || undefined, ...edgeParams(edge) }),
  events: (jid: string) => `/api/jobs/${enc(jid)}/events`,
  archive: (jid: string, query: string) => `/api/jobs/${enc(jid)}/archive${query ? `?${query}` : ""}`,
};

const wirePoint = (p: Point) => ({ x: p.x, y: p.y, label: p.label });

// ---- endpoints ----
export const api = {
  /** The server's state; the editor takes its point limit from it (each probe, as a restart may
   * change the setting). */
  health: () =>
    json<Health>("GET", "/api/health").then((h) => {
      if (h.max_points_per_frame !== undefined) setMaxPointsPerFrame(h.max_points_per_frame);
      return h;
    }),

  listProjects: () => json<Project[]>("GET", "/api/projects"),
  getProject: (pid: string) => json<Project>("GET", `/api/projects/${enc(pid)}`),
  renameProject: (pid: string, name: string) => json<Project>("PATCH", `/api/projects/${enc(pid)}`, { name }),
  deleteProject: (pid: string) => send("DELETE", `/api/projects/${enc(pid)}`).then(() => undefined),

  frame: (pid: string, index: number, maxSide?: number, signal?: AbortSignal) =>
    blob("GET", urls.frame(pid, index, maxSide), signal),

  listObjects: (pid: string) => json<MatteObject[]>("GET", `/api/projects/${enc(pid)}/objects`),
  /** Retried with its Idempotency-Key when the answer is lost: never two objects for one click.
   * `key`: the click's, given again when its held creation is tried again. */
  createObject: (pid: string, body: { name?: string; color?: string }, key?: string, signal?: AbortSignal) =>
    made<MatteObject>(`/api/projects/${enc(pid)}/objects`, body, key, signal),
  updateObject: (pid: string, oid: number, body: { name?: string; color?: string }) =>
    json<MatteObject>("PATCH", `/api/projects/${enc(pid)}/objects/${oid}`, body),
  deleteObject: (pid: string, oid: number) =>
    send("DELETE", `/api/projects/${enc(pid)}/objects/${oid}`).then(() => undefined),

  listPoints: (pid: string) => json<FramePoints[]>("GET", `/api/projects/${enc(pid)}/points`),
  /** `expected`: the points the edit began from; the server refuses (409) if it holds others. */
  putPoints: (pid: string, oid: number, frame: number, points: readonly Point[], expected?: readonly Point[]) =>
    json<FramePoints>("PUT", `/api/projects/${enc(pid)}/objects/${oid}/frames/${frame}/points`, {
      points: points.map(wirePoint),
      ...(expected ? { expected: expected.map(wirePoint) } : {}),
    }),

  preview: (pid: string, frame: number, opts: { objectId?: number; maxSide?: number } = {}, signal?: AbortSignal) =>
    send(
      "POST",
      withQuery(`/api/projects/${enc(pid)}/frames/${frame}/preview`, {
        object_id: opts.objectId,
        max_side: opts.maxSide || undefined,
      }),
      undefined,
      signal,
    ).then((r) => r.blob()),

  /** Retried with its Idempotency-Key when the answer is lost: never two jobs for one click. */
  createJob: (pid: string, body: { start: number; end: number; object_ids: number[] | null; export?: JobExport }) =>
    made<Job>(`/api/projects/${enc(pid)}/jobs`, body),
  listJobs: (pid: string) => json<Job[]>("GET", `/api/projects/${enc(pid)}/jobs`),
  getJob: (jid: string) => json<Job>("GET", `/api/jobs/${enc(jid)}`),
  cancelJob: (jid: string) => json<Job>("POST", `/api/jobs/${enc(jid)}/cancel`),
  resumeJob: (jid: string) => json<Job>("POST", `/api/jobs/${enc(jid)}/resume`),
  deleteJob: (jid: string) => send("DELETE", `/api/jobs/${enc(jid)}`).then(() => undefined),
  alpha: (jid: string, index: number, maxSide?: number, edge?: EdgeAdjust, signal?: AbortSignal) =>
    blob("GET", urls.alpha(jid, index, maxSide, edge), signal),
};

/** Ask whether project `pid` still exists, after a sign that it may not (its job or track
 * ended cancelled unasked, a job of it vanished): if not, send() flags it gone and the view
 * says so. Any other answer changes nothing, so it is not reported. */
export function recheckProject(pid: string): Promise<void> {
  return api.getProject(pid).then(
    () => undefined,
    () => undefined,
  );
}

/** The user stopped an upload: not a failure, nothing to report in red. `mayBeMade`: a try
 * before the cancel reached the server whole (its answer was lost, or it was still being
 * answered), so the server may have made the project all the same, perhaps only after the
 * cancel: the editor reads the projects list again rather than wait for the key's answer. */
export class UploadCancelled extends Error {
  constructor(readonly mayBeMade = false) {
    super("Upload cancelled.");
    this.name = "UploadCancelled";
  }
}

export interface Upload {
  promise: Promise<Project>;
  abort: () => void;
}

export interface UploadFields {
  name?: string;
  /** An image sequence's (a zip's) frame rate; a video has its own, and is refused one. */
  fps?: number;
}

/** The form POST /api/projects takes; `fps` only for a zip (a video is refused one). */
export function uploadForm(file: File, fields: UploadFields = {}): FormData {
  const form = new FormData();
  form.append("file", file, file.name);
  if (fields.name) form.append("name", fields.name);
  if (fields.fps !== undefined) form.append("fps", String(fields.fps));
  return form;
}

/** Waits before each retry of an upload that failed on the way (a dropped connection, a
 * proxy's 502/503/504, its first try still being answered): longer than a job's, as a network
 * or proxy that failed a long upload takes longer to come back. Each retry asks the server for
 * its key's answer first, and sends the file again only when there is none (uploadAnswer). */
export const UPLOAD_RETRY_DELAYS_MS = [2000, 5000, 15000];

/** An upload about to be sent again: why, when, and which try it will be. */
export interface UploadRetry {
  /** The try about to be made (2 for the first retry), of `tries` in all. */
  attempt: number;
  tries: number;
  /** What went wrong with the last try, for the user. */
  reason: string;
  delayMs: number;
}

/** Why a try of an upload failed, for the user: the server's 409 names the key, which means
 * nothing to them. */
function failedTry(e: ApiError): string {
  return e.status === 409 ? "The server is still answering an earlier try of this upload." : e.detail;
}

/** An upload whose every try failed for want of a connection (or was still being answered):
 * worth sending again later, with its key. */
export class UploadGaveUp extends ApiError {
  constructor(last: ApiError, tries: number) {
    super(last.status, `${failedTry(last)} Gave up after ${tries} tries; Retry upload asks the server first and sends the file again only if it has not made the project.`);
    this.name = "UploadGaveUp";
  }
}

/** One POST /api/projects with upload progress (fetch cannot report upload progress); an abort
 * of `signal` stops it (UploadCancelled). */
function sendUpload(file: File, fields: UploadFields, key: string, onProgress: (loaded: number, total: number) => void, signal: AbortSignal): Promise<Project> {
  return new Promise<Project>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/projects");
    xhr.setRequestHeader("Idempotency-Key", key);
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onload = () => {
      // As `send` does for fetch: the connection indicator hears of uploads too.
      setOnline(!UNREACHABLE.includes(xhr.status));
      if (xhr.status === 401) setTokenNeeded(true);
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body as Project);
      else reject(new ApiError(xhr.status, detailFromBody(body, xhr.status, xhr.statusText)));
    };
    const unreachable = () => {
      setOnline(false);
      reject(new ApiError(0, detailFromBody(null, 0)));
    };
    xhr.onerror = unreachable;
    xhr.ontimeout = unreachable;
    xhr.onabort = () => reject(new UploadCancelled());
    const onAbort = () => xhr.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    xhr.onloadend = () => signal.removeEventListener("abort", onAbort);
    xhr.send(uploadForm(file, fields));
  });
}

/** The answer the server kept for an Idempotency-Key (GET /api/idempotency-keys/{key}). */
interface KeyAnswer {
  route: string;
  status: number;
  body: unknown;
}

/** The project an upload sent with `key` made, asked of the server without sending the file
 * again (minutes of a multi-GB upload); null when the key has no answer (the file never reached
 * the server whole, or its upload failed): then the file goes again. A 409 (the upload is still
 * being answered) or a server out of reach is thrown, as a try's would be. */
async function uploadAnswer(key: string, signal: AbortSignal): Promise<Project | null> {
  // Aborted without a reason, so that `send` tells it from a lost connection (the connection
  // indicator would say offline); the upload's cancel is thrown as it came.
  const asking = new AbortController();
  const onAbort = () => asking.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const res = await send("GET", `/api/idempotency-keys/${encodeURIComponent(key)}`, undefined, asking.signal);
    const answer = (await res.json()) as KeyAnswer;
    // Another route's key (never the editor's: one fresh key per file) is the POST's to refuse.
    return answer.route === "POST /api/projects" && answer.status === 201 ? (answer.body as Project) : null;
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** POST /api/projects with upload progress and an Idempotency-Key (`key`: one per file the
 * user chose, the same for a "Retry upload" of it). A try whose connection dropped (before or
 * after every byte was sent) or whose first try is still being answered is tried again with the
 * same key, UPLOAD_RETRY_DELAYS_MS apart: each retry first asks the server for the key's answer
 * and takes its project, sending the file again only when the key has none. `sentBefore`: the
 * key's upload was tried before (a "Retry upload"), so its first try asks too. `onRetry` hears
 * of each retry before its wait. A cancel after a try that reached the server whole ends in
 * UploadCancelled with `mayBeMade`. */
export function uploadProject(
  file: File,
  onProgress: (loaded: number, total: number) => void,
  fields: UploadFields = {},
  key: string = requestKey(),
  onRetry?: (retry: UploadRetry) => void,
  sentBefore = false,
): Upload {
  const stop = new AbortController();
  const tries = UPLOAD_RETRY_DELAYS_MS.length + 1;
  let reached = false; // a failed try may have made the project on the server
  const once = async (attempt: number) => {
    let whole = false;
    const progress = (loaded: number, total: number) => {
      whole = loaded >= total;
      onProgress(loaded, total);
    };
    try {
      if (attempt > 0 || sentBefore) {
        const made = await uploadAnswer(key, stop.signal);
        if (made) return made;
        if (attempt > 0) onProgress(0, file.size); // the file goes again from its first byte
      }
      return await sendUpload(file, fields, key, progress, stop.signal);
    } catch (e) {
      // Every byte went (the answer was what got lost), or the server is still answering it.
      if (worthRetrying(e) && (whole || (e as ApiError).status === 409)) reached = true;
      throw e;
    }
  };
  const promise = retrying(once, UPLOAD_RETRY_DELAYS_MS, stop.signal, ({ error, attempt, delayMs }) =>
    onRetry?.({ attempt, tries, reason: failedTry(error), delayMs }),
  ).catch((e: unknown) => {
    if (e instanceof UploadCancelled) throw new UploadCancelled(reached);
    // Still worth retrying: the tries ran out.
    throw worthRetrying(e) ? new UploadGaveUp(e as ApiError, tries) : e;
  });
  return { promise, abort: () => stop.abort(new UploadCancelled()) };
}

/** Whether `e` says the server could not be reached (then retrying later makes sense). */
export function isUnreachable(e: unknown): boolean {
  return e instanceof ApiError && UNREACHABLE.includes(e.status);
}

/** "job 'j_4f9a2c0b1d3e'" → "the job": the API names its ids, the editor's messages do not. */
export function withoutIds(text: string): string {
  return text.replace(/\b(job|project) '[jp]_[0-9a-f]+'/g, "the $1");
}

/** The server's disk is full (507): it refuses every write until room is made, which a
 * retry alone does not. */
export function isDiskFull(e: unknown): boolean {
  return e instanceof ApiError && e.status === 507;
}

/** What the user can do about a full disk that the server's message does not say: deletes run
 * on the server's reserve, so they work while everything else is refused. */
export const DISK_FULL_HINT = "Deleting old projects or jobs (which works while the disk is full) makes room.";

/** Whether a server's or a stored job's message says its disk is full. */
function saysDiskFull(text: string): boolean {
  return text.startsWith("not enough disk space");
}

/** A server's or a stored job's message, with the way out added when it says the disk is full. */
export function withDiskFullHint(text: string, diskFull = saysDiskFull(text)): string {
  return diskFull ? `${text} ${DISK_FULL_HINT}` : text;
}

/** Message of any thrown value, for toasts. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return withDiskFullHint(withoutIds(e.detail), isDiskFull(e) || saysDiskFull(e.detail));
  if (e instanceof Error) return e.message;
  return String(e);
}
