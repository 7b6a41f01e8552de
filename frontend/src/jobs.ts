// Matting jobs of one project: the list from the server, kept live through SSE.
import { createSignal, onCleanup } from "solid-js";
import { api, ApiError, errorText, recheckProject, type Job } from "./api";
import { followJob, isTerminal } from "./sse";
import { showError, showSuccess } from "./toasts";

export interface JobsStore {
  jobs: () => Job[];
  loading: () => boolean;
  refresh: () => Promise<void>;
  create: (body: Parameters<typeof api.createJob>[1]) => Promise<Job>;
  cancel: (jid: string) => Promise<void>;
  /** Resume `jid`; a second call while one is on its way waits for that one (a second POST
   * would find the job queued and fail, though it resumed). */
  resume: (jid: string) => Promise<void>;
  /** A resume of `jid` is on its way: its Resume buttons can't be pressed again. */
  resuming: (jid: string) => boolean;
  /** Delete `jid` (the caller asks the user first): it leaves the list once the server has
   * deleted it, or found it gone already; any other error is shown and the job stays. Whether
   * it went. */
  remove: (jid: string) => Promise<boolean>;
  get: (jid: string) => Job | undefined;
}

export function createJobsStore(pid: string): JobsStore {
  const [jobs, setJobs] = createSignal<Job[]>([]);
  const [loading, setLoading] = createSignal(true);
  const followers = new Map<string, () => void>();
  /** Jobs this editor cancelled: their end says nothing about the project. */
  const cancelledHere = new Set<string>();
  /** Jobs deleted, from this editor or as their events said: a list read asked before the
   * delete must not bring one back. */
  const deletedHere = new Set<string>();
  /** Resumes on their way: at most one per job. */
  const [resumes, setResumes] = createSignal<ReadonlyMap<string, Promise<void>>>(new Map());
  let disposed = false;

  // A job cancelled by someone else, one that its events say was deleted, or one the server
  // forgets (404) may mean the project was deleted elsewhere, which the editor then shows
  // instead of a Resume that cannot work.
  const checkEnd = (job: Job) => {
    if (job.status === "cancelled" && !cancelledHere.has(job.id)) void recheckProject(pid);
  };
  const jobCall = async <T>(call: Promise<T>): Promise<T> => {
    try {
      return await call;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) void recheckProject(pid);
      throw e;
    }
  };

  // A list read answers whenever it does, while events, creates and cancels go on: its answer
  // may be older than what is shown (a job it read running has ended since, a job made since
  // is not in it). Each read and each job shown takes a number; a read keeps what was shown
  // of a job after it was asked, and a read answered after a later one is dropped.
  let asked = 0;
  let listFrom = 0;
  const shownAt = new Map<string, number>();

  const upsert = (job: Job) => {
    if (deletedHere.has(job.id)) return; // a late event or answer of a job deleted since
    shownAt.set(job.id, ++asked);
    setJobs((list) => {
      const i = list.findIndex((j) => j.id === job.id);
      if (i < 0) return [job, ...list];
      const before = list[i];
      if (before.status !== job.status && isTerminal(job.status)) announce(job);
      const next = list.slice();
      next[i] = job;
      return next;
    });
  };

  /** A request's error as a toast, unless the project was left meanwhile: it is not the next
   * project's. */
  const tell = (e: unknown, title: string) => {
    if (!disposed) showError(errorText(e), title);
  };

  const announce = (job: Job) => {
    if (job.status === "done") showSuccess(`Matting finished: frames ${job.start}–${job.end}.`);
    else if (job.status === "failed") showError(job.error || "The job failed without a message.", "Matting failed");
  };

  const follow = (job: Job) => {
    if (disposed || isTerminal(job.status) || followers.has(job.id)) return;
    const stop = followJob(
      job.id,
      (j) => {
        upsert(j);
        if (isTerminal(j.status)) followers.delete(j.id);
        checkEnd(j);
      },
      (jid) => jobCall(api.getJob(jid)),
      (msg) => showError(msg),
      () => {
        // Deleted elsewhere (another tab, or with its project): it goes here too.
        drop(job.id);
        void recheckProject(pid);
      },
    );
    followers.set(job.id, stop);
  };

  const refresh = async () => {
    const mine = ++asked;
    try {
      const list = await api.listJobs(pid);
      if (disposed || mine < listFrom) return;
      listFrom = mine;
      const newer = (id: string) => (shownAt.get(id) ?? 0) > mine;
      const shown = jobs();
      const made = shown.filter((j) => newer(j.id) && !list.some((l) => l.id === j.id));
      const kept = list.filter((j) => !deletedHere.has(j.id));
      const merged = [...made, ...kept.map((j) => (newer(j.id) ? (shown.find((s) => s.id === j.id) ?? j) : j))];
      setJobs(merged);
      merged.forEach(follow);
    } catch (e) {
      tell(e, "Could not load the results");
    } finally {
      setLoading(false);
    }
  };

  const resumeNow = async (jid: string) => {
    cancelledHere.delete(jid);
    try {
      const job = await jobCall(api.resumeJob(jid));
      followers.get(jid)?.();
      followers.delete(jid);
      upsert(job);
      follow(job);
    } catch (e) {
      tell(e, "Could not resume");
    }
  };

  const drop = (jid: string) => {
    deletedHere.add(jid);
    followers.get(jid)?.();
    followers.delete(jid);
    setJobs((list) => list.filter((j) => j.id !== jid));
  };

  const remove = async (jid: string) => {
    try {
      await jobCall(api.deleteJob(jid));
    } catch (e) {
      // Gone already (deleted in another tab, or with its project): what the user asked for.
      if (!(e instanceof ApiError && e.status === 404)) {
        tell(e, "Could not delete the result");
        return false;
      }
    }
    drop(jid);
    return true;
  };

  onCleanup(() => {
    disposed = true;
    followers.forEach((stop) => stop());
    followers.clear();
  });

  void refresh();

  return {
    jobs,
    loading,
    refresh,
    get: (jid) => jobs().find((j) => j.id === jid),
    create: async (body) => {
      const job = await api.createJob(pid, body);
      upsert(job);
      follow(job);
      return job;
    },
    cancel: async (jid) => {
      cancelledHere.add(jid);
      try {
        upsert(await jobCall(api.cancelJob(jid)));
      } catch (e) {
        tell(e, "Could not cancel");
      }
    },
    resume: (jid) => {
      const inFlight = resumes().get(jid);
      if (inFlight) return inFlight;
      // `finally` runs as a promise callback, so after the set below: the entry never outlives the call.
      const resumed = resumeNow(jid).finally(() => setResumes((m) => new Map([...m].filter(([id]) => id !== jid))));
      setResumes((m) => new Map(m).set(jid, resumed));
      return resumed;
    },
    resuming: (jid) => resumes().has(jid),
    remove,
  };
}
