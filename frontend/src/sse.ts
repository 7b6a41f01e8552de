// Job progress from the server-sent events of /api/jobs/{jid}/events.
import { isJob, urls, type Job, type JobStatus } from "./api";
import { formatEta } from "./timecode";

export const TERMINAL: readonly JobStatus[] = ["done", "failed", "cancelled", "interrupted"];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL.includes(status);
}

export function isResumable(status: JobStatus): boolean {
  return status === "interrupted" || status === "cancelled" || status === "failed";
}

/** Whether to offer Resume: the server says whether it would take it (a job made with other
 * models, or whose first frames' masks are gone, is refused); an older server that does not
 * say, its status. */
export function canResume(job: Job): boolean {
  return job.resumable ?? isResumable(job.status);
}

/** Parse the `data:` of one `progress` event. Throws on anything that is not a Job. */
export function parseProgressData(data: string): Job {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new Error(`Progress event is not JSON: ${data.slice(0, 80)}`);
  }
  if (!isJob(value)) throw new Error("Progress event does not describe a job.");
  return value;
}

export interface Progress {
  /** 0..100, one decimal */
  percent: number;
  /** "37 / 120 frames" */
  frames: string;
  /** "12.3 fps" or "–" */
  fps: string;
  /** "1 min 5 s" or "–" */
  eta: string;
  /** Said instead of the ETA: "connection lost" (the server is away), "starting…" (no frame yet). */
  note: string | null;
}

/** Not finished, no frame yet: the job is loading its models (it takes seconds on a CPU). */
export const isStarting = (job: Job): boolean => (job.status === "queued" || job.status === "running") && job.frames_done === 0;

/** Progress as shown; `online` false: the server is away, its last numbers are not live. */
export function progressOf(job: Job, online = true): Progress {
  const total = Math.max(0, job.frames_total);
  const done = Math.min(Math.max(0, job.frames_done), total || job.frames_done);
  let percent = total > 0 ? (done / total) * 100 : job.status === "done" ? 100 : 0;
  if (job.status === "done") percent = 100;
  percent = Math.round(percent * 10) / 10;
  const running = job.status === "running";
  return {
    percent,
    frames: `${done} / ${total} frames`,
    fps: job.fps != null && job.fps > 0 ? `${job.fps >= 10 ? job.fps.toFixed(0) : job.fps.toFixed(1)} fps` : "–",
    eta: running ? formatEta(job.eta_seconds) : job.status === "done" ? "done" : "–",
    note: !isTerminal(job.status) && !online ? "connection lost" : isStarting(job) ? "starting…" : null,
  };
}

/** What `followEvents` follows: a stream of `progress` events that a `deleted` one may end, and
 * a read for when it breaks. */
export interface EventFollow<T> {
  url: string;
  /** One event's data as a value; throws on anything else. */
  parse: (data: string) => T;
  /** Reads the value afresh (the stream is gone). */
  poll: () => Promise<T>;
  /** Whether `value` is the last one: following stops once it is delivered. */
  isLast: (value: T) => boolean;
  onValue: (value: T) => void;
  /** The thing was deleted (the stream's `deleted` event): following stops. */
  onGone?: () => void;
  onError?: (message: string) => void;
  /** What stopped updating, said when polling keeps failing: "Matting progress". */
  subject: string;
}

/**
 * Follow a server's `progress` events until `isLast`, or until a `deleted` event. Falls back to
 * polling when the stream breaks (a proxy timeout, a network blip, a server restart), so
 * progress never freezes silently. Returns a stop function.
 */
export function followEvents<T>({ url, parse, poll, isLast, onValue, onGone, onError, subject }: EventFollow<T>): () => void {
  let stopped = false;
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const stop = () => {
    stopped = true;
    source?.close();
    source = null;
    if (timer) clearTimeout(timer);
  };

  const handle = (value: T) => {
    if (stopped) return;
    onValue(value);
    if (isLast(value)) stop();
  };

  const pollLoop = async (failures = 0) => {
    if (stopped) return;
    try {
      handle(await poll());
      failures = 0;
    } catch (e) {
      failures++;
      if (failures === 3) onError?.(`${subject} stopped updating: ${(e as Error).message}`);
    }
    if (!stopped) timer = setTimeout(() => pollLoop(failures), Math.min(10000, 1000 * 2 ** Math.min(failures, 3)));
  };

  if (typeof EventSource === "undefined") {
    void pollLoop();
    return stop;
  }
  source = new EventSource(url);
  source.addEventListener("progress", (ev) => {
    try {
      handle(parse((ev as MessageEvent<string>).data));
    } catch (e) {
      onError?.((e as Error).message);
    }
  });
  // A deleted job's stream says so last, rather than ending at the cancel its delete began with.
  source.addEventListener("deleted", () => {
    if (stopped) return;
    stop();
    onGone?.();
  });
  source.onerror = () => {
    // The stream ends after the last value (then we have stopped already), or broke: poll.
    if (stopped) return;
    source?.close();
    source = null;
    void pollLoop();
  };
  return stop;
}

/** Follow a job until it reaches a terminal status or is deleted (`onGone`), polling
 * GET /api/jobs/{jid} when the stream breaks. */
export function followJob(
  jid: string,
  onJob: (job: Job) => void,
  poll: (jid: string) => Promise<Job>,
  onError?: (message: string) => void,
  onGone?: () => void,
): () => void {
  return followEvents({
    url: urls.events(jid),
    parse: parseProgressData,
    poll: () => poll(jid),
    isLast: (job) => isTerminal(job.status),
    onValue: onJob,
    onGone,
    onError,
    subject: "Matting progress",
  });
}
