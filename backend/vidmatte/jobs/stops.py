"""Why a job stopped, and the error users see: composed when the job is served, from what went
wrong (stored) and how it stopped (`Job.stop`, stored), with what to do on THIS server. A resume
finishes an interrupted job, or may mend some failures, only on a server that runs the job's
matting head and SAM2 (`other_models`); on another the error gives the reason the resume is
refused instead. So no stored error is rewritten when a server starts with other models (it
only holds their queued jobs: jobs/runner.py `hold_other_models`).
"""

from __future__ import annotations

from vidmatte.errors import DISK_FULL
from vidmatte.store import Job, StopCause

# What went wrong, for the stops that say it all by themselves (a worker that died also says
# how often: `worker_died`).
STOPPED_BY_CRASH = "the server stopped while this job ran (a crash or a kill)"
STOPPED_BY_SHUTDOWN = "the server was shut down while this job ran"
# A Ray worker ended the run before its last frame, neither cancelled nor shut down (a stop
# word of earlier still held for it, say): nothing is wrong with the job.
STOPPED_BY_WORKER = "the worker running this job ended it before its last frame"
WHAT: dict[StopCause, str] = {
    "crash": STOPPED_BY_CRASH,
    "shutdown": STOPPED_BY_SHUTDOWN,
    "worker_stopped": STOPPED_BY_WORKER,
    "disk_full": DISK_FULL,
}
WORKER_DIED = "the worker running the job died"  # on Ray, more times than the retries allow
RESUME = "resume it to matte the rest"
# What to do about each stop on a server that runs the job's models.
ADVICE: dict[StopCause, str] = {
    "crash": RESUME,
    "shutdown": RESUME,
    "worker_stopped": RESUME,
    "disk_full": "free some space, then resume the job",
    "worker_died": "resume the job to try again",
}


def other_models(job: Job, head: str, sam2: str) -> str | None:
    """Why `job` may not run on a server with this matting head and SAM2 model (its frames
    would mix two models' mattes under the first one's name), or None when it may."""
    if job.head and job.head != head:  # (jobs of an older version recorded none)
        made, runs = f"the matting head '{job.head}'", f"'{head}'"
    elif job.sam2 and job.sam2 != sam2:
        made, runs = f"SAM2 '{job.sam2}'", f"SAM2 '{sam2}'"
    else:
        return None
    return f"job '{job.id}' was made with {made}, this server runs {runs}: start a new job"


def shown_error(job: Job, head: str, sam2: str) -> str | None:
    """The error users see on a server with this matting head and SAM2: what went wrong, then
    what to do: resume, or, when the resume would be refused, its reason. A held job refused
    here gives the reason alone. An error without a stop cause (any other failure) is final:
    it promises no resume."""
    if job.stop is None:
        return job.error
    why = other_models(job, head, sam2)
    if job.stop == "held_other_models":
        held = f"job '{job.id}' was held by a server that ran other models than its own"
        return why or f"{held}: {RESUME}"
    return f"{job.error}: {ADVICE[job.stop]}" if why is None else f"{job.error}; {why}"
