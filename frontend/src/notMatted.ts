// Mattes a job had not made when asked (a 404: a running job not there yet, or one stopped
// partway). The answer stands until the job moves on: playback asks each frame's matte before
// it steps there, and the stage would otherwise ask the server once more for the same 404.
// A job made before mattes were stored per object answers every object's matte with a 404: that
// is kept for the job, so its later frames show the union without asking once per object.
import { ApiError, type Job } from "./api";

/** How far a job got: a frame it had not matted may be matted once this changes. */
const progressOf = (job: Job) => `${job.status}:${job.frames_done}`;

/** The server's 404 for an object's own matte of a job that kept only the union
 * (GET /api/jobs/{id}/alpha/{i}?object_id=). */
const UNION_ONLY = /stored only the union of its objects' mattes/;

export class NotMatted {
  private readonly missing = new Map<string, { progress: string; error: unknown }>();
  private readonly unionOnly = new Set<string>();

  /** `request` of `key` (a matte of `job`), its 404 kept as the answer while `job` stays as
   * it is now. */
  watch<T>(key: string, job: Job | undefined, request: Promise<T>): Promise<T> {
    const progress = job ? progressOf(job) : null;
    return request.then(
      (value) => {
        this.missing.delete(key);
        return value;
      },
      (error: unknown) => {
        if (!(error instanceof ApiError) || error.status !== 404) throw error;
        if (job && UNION_ONLY.test(error.detail)) this.unionOnly.add(job.id);
        if (progress !== null) this.missing.set(key, { progress, error });
        throw error;
      },
    );
  }

  /** The 404 `key` got while `job` was as it is now (asking again would get the same), or
   * undefined. */
  answer(key: string, job: Job): unknown {
    const m = this.missing.get(key);
    return m?.progress === progressOf(job) ? m.error : undefined;
  }

  /** Whether `job` is known to have kept only the union of its objects' mattes: none of its
   * frames has an object's own. */
  onlyUnion(job: Job): boolean {
    return this.unionOnly.has(job.id);
  }
}
