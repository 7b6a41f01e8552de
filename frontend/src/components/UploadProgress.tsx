import { Show } from "solid-js";
import { retryText, uploadPercent, type FailedUpload, type UploadState } from "./upload";

/** The running upload: bytes sent, then "reading the video…" while the server opens it;
 * Cancel only while bytes are still going. */
export function UploadProgress(props: { upload: UploadState }) {
  const pct = () => uploadPercent(props.upload);
  return (
    <div class="upload-box" data-testid="upload-progress" data-percent={pct()}>
      <div class="upload-name" title={props.upload.name}>
        {props.upload.processing ? "Processing " : "Uploading "}
        <strong>{props.upload.name}</strong>
      </div>
      <div class="bar" role="progressbar" aria-valuenow={pct()} aria-valuemin={0} aria-valuemax={100}>
        <div class={`bar-fill ${props.upload.processing ? "indeterminate" : ""}`} style={{ width: `${pct()}%` }} />
      </div>
      <div class="progress-meta">
        <span>{props.upload.processing ? "reading the video…" : `${pct()}%`}</span>
        <span>{(props.upload.loaded / 1e6).toFixed(1)} / {(props.upload.total / 1e6).toFixed(1)} MB</span>
        {/* Once every byte is sent the server is making the project: aborting then would only
            stop the answer, not the project, so Cancel goes. */}
        <Show when={!props.upload.processing}>
          <button class="link-btn" onClick={() => props.upload.handle.abort()}>
            Cancel
          </button>
        </Show>
      </div>
      <Show when={props.upload.processing}>
        <div class="small muted">The server is reading the video; it can no longer be cancelled.</div>
      </Show>
      {/* Live, so that a screen reader hears the upload is being sent again and why. */}
      <div class="small muted" role="status" aria-live="polite" data-testid="upload-retry">
        {retryText(props.upload.retry)}
      </div>
    </div>
  );
}

/** An upload that failed for want of a connection: sent again, the same file, at a click. */
export function UploadFailed(props: { failed: FailedUpload; onRetry: () => void; onDismiss: () => void }) {
  return (
    <div class="upload-box" data-testid="upload-failed">
      <div class="upload-name" title={props.failed.file.name}>
        Upload of <strong>{props.failed.file.name}</strong> failed
      </div>
      <div class="small muted">{props.failed.message}</div>
      <div class="progress-meta">
        <button class="btn btn-small" onClick={() => props.onRetry()}>
          Retry upload
        </button>
        <button class="link-btn" onClick={() => props.onDismiss()}>
          Dismiss
        </button>
      </div>
    </div>
  );
}
