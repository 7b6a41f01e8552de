// Mattes a job had not made when asked (a 404: a running job not there yet, or one stopped
// partway). The answer stands until the job moves on: playback asks each frame's matte before
// it steps there, and the stage would otherwise ask the server once more for the same 404.
import { ApiError, type Job } from "./api";

/** How far a job got: a frame it had not matted may be matted once this changes. */
const progressOf = (job: Job) => `${job.status}:${job.frames_done}`;

export class NotMatted {
  private readonly missing = new Map<string, { progress: string; error: unknown }>();

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
        if (progress !== null && error instanceof ApiError && error.status === 404) this.missing.set(key, { progress, error });
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
}
