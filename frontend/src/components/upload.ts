// Adding a video: one upload at a time with its progress and cancel, and a file dropped
// anywhere on the app taken as an upload (the projects panel shows both).
import { createSignal, onCleanup, onMount, type Accessor } from "solid-js";
import { UploadCancelled, UploadGaveUp, errorText, requestKey, uploadProject, type Project, type Upload, type UploadFields, type UploadRetry } from "../api";
import { dialogOpen } from "../focusTrap";
import { droppedFolder } from "../folders";
import { isTypingTarget } from "../keyboard";
import { useLeaveGuard } from "../leaveGuard";
import { STATED, askSequenceFps, isImageSequence, type SequenceFps } from "../sequenceFps";
import { frameCountLabel } from "../timecode";
import { notify, showError, showInfo, showSuccess } from "../toasts";
import { videoNotes } from "./ProjectItem";

export interface UploadState {
  name: string;
  loaded: number;
  total: number;
  /** All bytes sent: the server is reading the video. */
  processing: boolean;
  handle: Upload;
  /** A try failed on the way and the file is being sent again (null: the first try runs);
   * `waiting` until the resend begins. */
  retry: (UploadRetry & { waiting: boolean }) | null;
}

/** An upload that failed for want of a connection even after its retries: "Retry upload" sends
 * the same file with the same Idempotency-Key, without the user choosing it again. */
export interface FailedUpload {
  file: File;
  fields: UploadFields;
  key: string;
  message: string;
}

export interface UploadDeps {
  onAdded: (project: Project) => void;
  /** A cancelled upload may have made its project all the same (a try reached the server
   * whole before its answer was lost): the projects list is read again to show it. */
  onMaybeAdded?: () => void;
  /** After every upload that started, whatever its outcome, and a zip whose rate was not given. */
  onSettled?: () => void;
  send?: typeof uploadProject;
  /** A zip's frame rate (STATED: the images' own), null when the user cancels (the dialog by default). */
  askFps?: (file: File) => Promise<SequenceFps | null>;
}

/** Said of a cancel after a try that reached the server whole: the cancel stopped the
 * resend, not the project the server may have made from that try (whose answer was lost). */
export const MAY_BE_MADE = " An earlier try reached the server before its answer was lost, so the project may have been made all the same: if it shows in the list, delete it there.";

/** How long the notes on an added video stay (longer than a plain message: they are read). */
const NOTES_MS = 15000;

/** Videos by name, for a browser that does not know their type (.mkv) or gives another one (a
 * GIF is image/gif, an MXF application/mxf): the server reads whatever FFmpeg does. */
const VIDEO_EXTENSIONS = ["mp4", "mov", "m4v", "mkv", "webm", "avi", "mpg", "mpeg", "wmv", "flv", "ts", "mts", "m2ts", "mxf", "gif", "3gp", "ogv", "dv", "y4m"];
const VIDEO_EXT = new RegExp(`\\.(${VIDEO_EXTENSIONS.join("|")})$`, "i");

/** What the Add video file chooser offers: every file an upload takes (a chooser that went by
 * the type alone would hide GIFs and MXFs). */
export const UPLOAD_ACCEPT = ["video/*", ...VIDEO_EXTENSIONS.map((e) => `.${e}`), ".zip", ".tar"].join(",");

/** A video by its type, or by its name when the browser does not know the type (e.g. .mkv);
 * or a zip or tar, which holds an image sequence (shot.1001.png ...) the server makes a video. */
export function looksLikeVideo(file: File): boolean {
  return file.type.startsWith("video/") || VIDEO_EXT.test(file.name) || isImageSequence(file);
}

/** The files chosen in a file input, which is emptied at once: a browser fires no change for
 * the file it already holds, so a refused file (or one whose upload failed) could not be
 * chosen again while the input kept it. */
export function takeChosen(input: HTMLInputElement): File[] {
  const files = [...(input.files ?? [])];
  input.value = "";
  return files;
}

export function uploadPercent(u: { loaded: number; total: number } | null): number {
  return u && u.total > 0 ? Math.round((u.loaded / u.total) * 100) : 0;
}

/** What an upload that is being sent again says (announced: the box's status is live). */
export function retryText(r: UploadState["retry"]): string {
  if (!r) return "";
  const which = `try ${r.attempt} of ${r.tries}`;
  return r.waiting ? `${r.reason} Sending again in ${Math.round(r.delayMs / 1000)} s (${which}).` : `Sending again (${which}).`;
}

export function createUpload(deps: UploadDeps): {
  current: Accessor<UploadState | null>;
  start: (file: File) => Promise<void>;
  failed: Accessor<FailedUpload | null>;
  retry: () => Promise<void>;
  dismissFailed: () => void;
} {
  const send = deps.send ?? uploadProject;
  const askFps = deps.askFps ?? ((file: File) => askSequenceFps(file.name));
  const [current, setCurrent] = createSignal<UploadState | null>(null);
  const [failed, setFailed] = createSignal<FailedUpload | null>(null);
  let asking = false; // a zip's frame rate is being asked: that upload comes first
  useLeaveGuard(() => current() !== null); // leaving the page stops the upload

  const busy = () => {
    if (!current() && !asking) return false;
    showError("Wait for the current upload to finish.");
    return true;
  };

  /** Send `file` under `key`: one key per file chosen, kept by its retries; `sentBefore` for a
   * "Retry upload", which asks the server for the key's answer before sending the file. */
  const upload = async (file: File, fields: UploadFields, key: string, sentBefore = false) => {
    setFailed(null);
    const onProgress = (loaded: number, total: number) =>
      setCurrent((u) => (u ? { ...u, loaded, total, processing: loaded >= total, retry: u.retry && { ...u.retry, waiting: false } } : u));
    const onRetry = (retry: UploadRetry) => setCurrent((u) => (u ? { ...u, processing: false, retry: { ...retry, waiting: true } } : u));
    const handle = send(file, onProgress, fields, key, onRetry, sentBefore);
    setCurrent({ name: file.name, loaded: 0, total: file.size, processing: false, handle, retry: null });
    try {
      const project = await handle.promise;
      showSuccess(`Added "${project.name}" (${frameCountLabel(project.video.frame_count)}).`);
      // How the file is read (cut short, alpha ignored): said once here, with time to read
      // it; the project's row and title keep it.
      const notes = videoNotes(project);
      if (notes) notify("info", notes, `About "${project.name}"`, NOTES_MS);
      deps.onAdded(project);
    } catch (e) {
      if (e instanceof UploadCancelled) {
        showInfo(`Upload of "${file.name}" cancelled.${e.mayBeMade ? MAY_BE_MADE : ""}`);
        if (e.mayBeMade) deps.onMaybeAdded?.();
      } else showError(errorText(e), `Upload of "${file.name}" failed`);
      // Lost for want of a connection: offered again as it was, not to be chosen again.
      if (e instanceof UploadGaveUp) setFailed({ file, fields, key, message: errorText(e) });
    } finally {
      setCurrent(null);
      deps.onSettled?.();
    }
  };

  const start = async (file: File) => {
    if (busy()) return;
    if (!looksLikeVideo(file)) {
      showError(`"${file.name}" does not look like a video file, or a zip or folder of images.`, "Upload refused");
      return;
    }
    let fps: number | undefined;
    if (isImageSequence(file)) {
      asking = true;
      const chosen = await askFps(file).finally(() => (asking = false));
      if (chosen === null) return deps.onSettled?.(); // cancelled: nothing sent
      if (chosen !== STATED) fps = chosen;
    }
    await upload(file, fps === undefined ? {} : { fps }, requestKey());
  };

  /** The failed upload again, its file, fields and key as they were: if its answer was what
   * got lost, the server answers with the project it made, without the file sent again. */
  const retry = async () => {
    const f = failed();
    if (!f || busy()) return;
    await upload(f.file, f.fields, f.key, true);
  };
  return { current, start, failed, retry, dismissFailed: () => setFailed(null) };
}

/** A drag that carries files (not text or a link dragged within the page). */
const carriesFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes("Files");

/** The dropped file to upload: the first that looks like a video, else the first of all (so
 * the upload refuses it by name); warns when several videos came at once. */
function pickDropped(files: File[]): File | undefined {
  const videos = files.filter(looksLikeVideo);
  if (videos.length > 1) showError(`Drop one video at a time; uploading "${videos[0].name}".`);
  return videos[0] ?? files[0];
}

/** A file dropped anywhere on the app goes to `onFile` (a folder packed as one tar first); nothing dropped ever reaches the
 * browser's own handling, which would open the file (or a dragged link) in this tab and leave
 * the editor. Text dragged into a text field still lands there. While a modal dialog is open
 * a drop is ignored: an upload would land behind it and then close it. Returns whether files
 * are being dragged over the window. */
export function useFileDrop(onFile: (file: File) => void): Accessor<boolean> {
  const [dragOver, setDragOver] = createSignal(false);
  const intoTextField = (e: DragEvent) => !carriesFiles(e) && isTypingTarget(e.target);
  const takesFiles = (e: DragEvent) => carriesFiles(e) && !dialogOpen();
  const onDragOver = (e: DragEvent) => {
    if (intoTextField(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = takesFiles(e) ? "copy" : "none";
    if (takesFiles(e)) setDragOver(true);
  };
  const onDragLeave = (e: DragEvent) => {
    if (!e.relatedTarget) setDragOver(false); // left the window
  };
  const onDrop = (e: DragEvent) => {
    if (intoTextField(e)) return;
    e.preventDefault();
    setDragOver(false);
    if (dialogOpen()) return;
    const folder = droppedFolder(e.dataTransfer?.items);
    if (folder) {
      folder.then(onFile, (err: unknown) => showError(err instanceof Error ? err.message : String(err), "Folder refused"));
      return;
    }
    const file = pickDropped([...(e.dataTransfer?.files ?? [])]);
    if (file) onFile(file);
  };
  onMount(() => {
    window.addEventListener("dragover", onDragOver);
    window.addEventListener("dragleave", onDragLeave);
    window.addEventListener("drop", onDrop);
  });
  onCleanup(() => {
    window.removeEventListener("dragover", onDragOver);
    window.removeEventListener("dragleave", onDragLeave);
    window.removeEventListener("drop", onDrop);
  });
  return dragOver;
}
