import { For, Show, createMemo, createSignal } from "solid-js";
import type { Project } from "../api";
import { useListFocus } from "../listFocus";
import { Spinner } from "./ProgressBar";
import { Icon } from "./Icon";
import { ProjectItem } from "./ProjectItem";
import { UploadFailed, UploadProgress } from "./UploadProgress";
import { NO_FILES, pickedFolder } from "../folders";
import { showError } from "../toasts";
import { UPLOAD_ACCEPT, createUpload, takeChosen, useFileDrop } from "./upload";


export interface ProjectsPanelProps {
  projects: Project[];
  loading: boolean;
  selectedId: string | null;
  onSelect: (pid: string) => void;
  onChanged: (select?: string) => void;
  onDeleted: (pid: string) => void;
}

export function ProjectsPanel(props: ProjectsPanelProps) {
  const [renaming, setRenaming] = createSignal<string | null>(null);
  let input!: HTMLInputElement;
  const upload = createUpload({ onAdded: (project) => props.onChanged(project.id), onMaybeAdded: () => props.onChanged() });
  /** A folder picked: its images packed as one tar, uploaded as a zip of them would be. */
  const startFolder = (files: File[]) => {
    let packed: File | null;
    try {
      packed = pickedFolder(files);
    } catch (e) {
      return showError(e instanceof Error ? e.message : String(e), "Folder refused");
    }
    if (packed) void upload.start(packed);
    else showError(NO_FILES, "Folder refused");
  };
  const dragOver = useFileDrop((file) => void upload.start(file));
  // Rows by id: every refresh brings new project values, and a row (with the focus in it)
  // stays while its project does.
  const byId = createMemo(() => new Map(props.projects.map((p) => [p.id, p])));
  let list!: HTMLDivElement;
  useListFocus(
    () => list,
    "[data-testid=project-item]",
    "[data-testid=project-open]",
    () => input,
  );

  return (
    <aside class={`panel projects-panel ${dragOver() ? "drag-over" : ""}`} data-testid="projects-panel" aria-label="Projects">
      <div class="panel-head">
        <h2>Projects</h2>
        <span class="head-actions">
        <label class="btn btn-small" title="Add a folder of numbered images (EXR, DPX, PNG, JPEG, TIFF) as one image sequence (or drop the folder anywhere on the page)">
          <Icon name="folder" size={14} /> Folder
          <input
            ref={(el) => (el.webkitdirectory = true)}
            type="file"
            class="visually-hidden"
            data-testid="folder-input"
            onChange={(e) => startFolder(takeChosen(e.currentTarget))}
          />
        </label>
        <label class="btn btn-primary btn-small" title="Add a video or a zip of numbered images (or drop it anywhere on the page)">
          <Icon name="upload" size={14} /> Add video
          <input
            ref={input}
            type="file"
            accept={UPLOAD_ACCEPT}
            class="visually-hidden"
            data-testid="upload-input"
            onChange={(e) => {
              const f = takeChosen(e.currentTarget)[0];
              if (f) void upload.start(f);
            }}
          />
        </label>
        </span>
      </div>

      <Show when={upload.current()}>{(u) => <UploadProgress upload={u()} />}</Show>
      <Show when={!upload.current() && upload.failed()}>
        {(f) => <UploadFailed failed={f()} onRetry={() => void upload.retry()} onDismiss={upload.dismissFailed} />}
      </Show>

      <div ref={list} class="project-list" data-testid="project-list">
        <Show when={props.loading && props.projects.length === 0}>
          <div class="empty">
            <Spinner /> Loading projects…
          </div>
        </Show>
        <Show when={!props.loading && props.projects.length === 0 && !upload.current() && !upload.failed()}>
          {/* A button: the keyboard reaches it (Enter or Space chooses a file), and it is read
              out as one. */}
          <button type="button" class="empty drop-hint" data-testid="empty-drop" onClick={() => input.click()}>
            <span class="drop-icon"><Icon name="film" size={28} /></span>
            Drop a video here{" "}
            <br />
            <span class="muted">or click to choose a file</span>
          </button>
        </Show>
        <For each={props.projects.map((p) => p.id)}>
          {(id) => (
            <ProjectItem
              project={byId().get(id)!}
              selected={props.selectedId === id}
              renaming={renaming() === id}
              onRenaming={(on) => setRenaming(on ? id : null)}
              onSelect={() => props.onSelect(id)}
              onChanged={() => props.onChanged()}
              onDeleted={() => props.onDeleted(id)}
            />
          )}
        </For>
      </div>
      <div class="drop-overlay" data-testid="drop-overlay">
        Drop the video to add it
      </div>
    </aside>
  );
}
