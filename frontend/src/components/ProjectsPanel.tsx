import { For, Show, createSignal, onCleanup, onMount } from "solid-js";
import { UploadCancelled, api, errorText, uploadProject, urls, type Project, type Upload } from "../api";
import { confirmAction } from "../confirm";
import { isTypingTarget } from "../keyboard";
import { formatDuration } from "../timecode";
import { showError, showInfo, showSuccess } from "../toasts";
import { Spinner } from "./ProgressBar";
import { Icon } from "./Icon";

export interface ProjectsPanelProps {
  projects: Project[];
  loading: boolean;
  selectedId: string | null;
  onSelect: (pid: string) => void;
  onChanged: (select?: string) => void;
  onDeleted: (pid: string) => void;
}

const VIDEO_EXT = /\.(mp4|mov|m4v|mkv|webm|avi|mpg|mpeg|wmv|flv|ts|mts|gif)$/i;

/** A project's video in two short lines: what it looks like, then how long it is. */
export function projectMeta(p: Project): [string, string] {
  const v = p.video;
  const fps = v.fps ? `${Math.round(v.fps * 100) / 100} fps` : "";
  return [[`${v.width}×${v.height}`, fps].filter(Boolean).join(" · "), `${v.frame_count} frames · ${formatDuration(v.duration)}`];
}

/** A drag that carries files (not text or a link dragged within the page). */
const carriesFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes("Files");

export function ProjectsPanel(props: ProjectsPanelProps) {
  const [upload, setUpload] = createSignal<{ name: string; loaded: number; total: number; processing: boolean; handle: Upload } | null>(null);
  const [dragOver, setDragOver] = createSignal(false);
  const [renaming, setRenaming] = createSignal<string | null>(null);
  let input!: HTMLInputElement;

  const start = async (file: File) => {
    if (upload()) {
      showError("Wait for the current upload to finish.");
      return;
    }
    if (!file.type.startsWith("video/") && !VIDEO_EXT.test(file.name)) {
      showError(`"${file.name}" does not look like a video file.`, "Upload refused");
      return;
    }
    const handle = uploadProject(file, (loaded, total) =>
      setUpload((u) => (u ? { ...u, loaded, total, processing: loaded >= total } : u)),
    );
    setUpload({ name: file.name, loaded: 0, total: file.size, processing: false, handle });
    try {
      const project = await handle.promise;
      showSuccess(`Added "${project.name}" (${project.video.frame_count} frames).`);
      props.onChanged(project.id);
    } catch (e) {
      if (e instanceof UploadCancelled) showInfo(`Upload of "${file.name}" cancelled.`);
      else showError(errorText(e), `Upload of "${file.name}" failed`);
    } finally {
      setUpload(null);
      if (input) input.value = "";
    }
  };

  // A file dropped anywhere on the app is uploaded; nothing dropped ever reaches the browser's
  // own handling, which would open the file (or a dragged link) in this tab and leave the
  // editor. Text dragged into a text field still lands there.
  const intoTextField = (e: DragEvent) => !carriesFiles(e) && isTypingTarget(e.target);
  const onDragOver = (e: DragEvent) => {
    if (intoTextField(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = carriesFiles(e) ? "copy" : "none";
    if (carriesFiles(e)) setDragOver(true);
  };
  const onDragLeave = (e: DragEvent) => {
    if (!e.relatedTarget) setDragOver(false); // left the window
  };
  const onDrop = (e: DragEvent) => {
    if (intoTextField(e)) return;
    e.preventDefault();
    setDragOver(false);
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    if (files.length > 1) showError("Drop one video at a time; uploading the first.");
    void start(files[0]);
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

  const rename = async (p: Project, name: string) => {
    setRenaming(null);
    const trimmed = name.trim();
    if (!trimmed || trimmed === p.name) return;
    try {
      await api.renameProject(p.id, trimmed);
      props.onChanged();
    } catch (e) {
      showError(errorText(e), "Rename failed");
    }
  };

  const remove = async (p: Project) => {
    const ok = await confirmAction({
      title: "Delete project?",
      message: `"${p.name}" with its points, objects and every matting result will be deleted. This cannot be undone.`,
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteProject(p.id);
      props.onDeleted(p.id);
      props.onChanged();
    } catch (e) {
      showError(errorText(e), "Delete failed");
    }
  };

  const pct = () => {
    const u = upload();
    return u && u.total > 0 ? Math.round((u.loaded / u.total) * 100) : 0;
  };

  return (
    <aside class={`panel projects-panel ${dragOver() ? "drag-over" : ""}`} data-testid="projects-panel">
      <div class="panel-head">
        <h2>Projects</h2>
        <label class="btn btn-primary btn-small" title="Add a video (or drop it anywhere on the page)">
          <Icon name="upload" size={14} /> Add video
          <input
            ref={input}
            type="file"
            accept="video/*,.mkv,.mov,.mp4,.webm,.avi"
            class="visually-hidden"
            data-testid="upload-input"
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) void start(f);
            }}
          />
        </label>
      </div>

      <Show when={upload()}>
        {(u) => (
          <div class="upload-box" data-testid="upload-progress" data-percent={pct()}>
            <div class="upload-name" title={u().name}>
              {u().processing ? "Processing " : "Uploading "}
              <strong>{u().name}</strong>
            </div>
            <div class="bar" role="progressbar" aria-valuenow={pct()} aria-valuemin={0} aria-valuemax={100}>
              <div class={`bar-fill ${u().processing ? "indeterminate" : ""}`} style={{ width: `${pct()}%` }} />
            </div>
            <div class="progress-meta">
              <span>{u().processing ? "reading the video…" : `${pct()}%`}</span>
              <span>{(u().loaded / 1e6).toFixed(1)} / {(u().total / 1e6).toFixed(1)} MB</span>
              <button class="link-btn" onClick={() => u().handle.abort()}>
                Cancel
              </button>
            </div>
          </div>
        )}
      </Show>

      <div class="project-list" data-testid="project-list">
        <Show when={props.loading && props.projects.length === 0}>
          <div class="empty">
            <Spinner /> Loading projects…
          </div>
        </Show>
        <Show when={!props.loading && props.projects.length === 0 && !upload()}>
          <div class="empty drop-hint" onClick={() => input.click()}>
            <div class="drop-icon"><Icon name="film" size={28} /></div>
            Drop a video here
            <br />
            <span class="muted">or click to choose a file</span>
          </div>
        </Show>
        <For each={props.projects}>
          {(p) => (
            <div
              class={`project-item ${props.selectedId === p.id ? "selected" : ""}`}
              data-testid="project-item"
              data-project-id={p.id}
              role="button"
              tabIndex={0}
              aria-current={props.selectedId === p.id}
              onClick={() => props.onSelect(p.id)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && e.target === e.currentTarget) props.onSelect(p.id);
              }}
            >
              <div class="thumb">
                <img
                  src={urls.thumbnail(p.id)}
                  alt=""
                  loading="lazy"
                  data-testid="project-thumbnail"
                  onError={(e) => e.currentTarget.classList.add("broken")}
                />
              </div>
              <div class="project-info">
                <Show
                  when={renaming() === p.id}
                  fallback={
                    <div class="project-name" data-testid="project-name" title={`${p.name}\n${p.filename}`}>
                      {p.name}
                    </div>
                  }
                >
                  <input
                    class="input input-inline"
                    data-testid="project-rename-input"
                    value={p.name}
                    ref={(el) => queueMicrotask(() => (el.focus(), el.select()))}
                    onClick={(e) => e.stopPropagation()}
                    onKeyDown={(e) => {
                      e.stopPropagation();
                      if (e.key === "Enter") void rename(p, e.currentTarget.value);
                      if (e.key === "Escape") setRenaming(null);
                    }}
                    onBlur={(e) => void rename(p, e.currentTarget.value)}
                  />
                </Show>
                <div class="project-meta muted" data-testid="project-meta">
                  <span>{projectMeta(p)[0]}</span>
                  <span>{projectMeta(p)[1]}</span>
                </div>
              </div>
              <div class="item-actions">
                <button
                  class="icon-btn"
                  title="Rename"
                  aria-label={`Rename ${p.name}`}
                  data-testid="project-rename"
                  onClick={(e) => {
                    e.stopPropagation();
                    setRenaming(p.id);
                  }}
                >
                  <Icon name="edit" size={14} />
                </button>
                <button
                  class="icon-btn danger"
                  title="Delete"
                  aria-label={`Delete ${p.name}`}
                  data-testid="project-delete"
                  onClick={(e) => {
                    e.stopPropagation();
                    void remove(p);
                  }}
                >
                  <Icon name="trash" size={14} />
                </button>
              </div>
            </div>
          )}
        </For>
      </div>
      <div class="drop-overlay" data-testid="drop-overlay">
        Drop the video to add it
      </div>
    </aside>
  );
}
