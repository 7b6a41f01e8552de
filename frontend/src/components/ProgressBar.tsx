import { online, type Job } from "../api";
import { isTerminal, progressOf } from "../sse";

/** Job progress: bar with percent, frames, fps and ETA. */
export function JobProgressBar(props: { job: Job; testid: string; compact?: boolean }) {
  const p = () => progressOf(props.job, online());
  return (
    <div
      class={`job-progress status-${props.job.status} ${props.compact ? "compact" : ""}`}
      data-testid={props.testid}
      data-percent={p().percent}
      data-frames-done={props.job.frames_done}
      data-frames-total={props.job.frames_total}
    >
      <div
        class="bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={p().percent}
        aria-label="Matting progress"
      >
        <div class="bar-fill" style={{ width: `${p().percent}%` }} />
      </div>
      <div class="progress-meta">
        <span class="pct">{p().percent.toFixed(p().percent % 1 ? 1 : 0)}%</span>
        <span>{p().frames}</span>
        <span>{p().fps}</span>
        <span data-testid={`${props.testid}-eta`}>{p().note ?? `ETA ${p().eta}`}</span>
      </div>
    </div>
  );
}

/** A job's status; while the server is away a live status is only the last known one. */
export function StatusBadge(props: { status: Job["status"]; testid?: string }) {
  const lost = () => !online() && !isTerminal(props.status);
  return (
    <span
      class={`badge badge-${lost() ? "lost" : props.status}`}
      data-testid={props.testid}
      data-status={props.status}
      data-connection={lost() ? "lost" : "ok"}
      title={lost() ? `Last known: ${props.status}. The server does not answer.` : undefined}
    >
      {lost() ? "connection lost" : props.status}
    </span>
  );
}

export function Spinner(props: { label?: string; testid?: string }) {
  return <span class="spinner" role="status" aria-label={props.label ?? "Loading"} data-testid={props.testid} />;
}
