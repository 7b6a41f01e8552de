import { Show, createSignal } from "solid-js";
import { api, errorText, urls, type Project } from "../api";
import { confirmAction } from "../confirm";
import { sizeLabel } from "../geometry";
import { rowDeleteKey } from "../keyboard";
import { useLeaveGuard } from "../leaveGuard";
import { formatDuration, frameCountLabel } from "../timecode";
import { showError } from "../toasts";
import { Icon } from "./Icon";
import { PROJECT_NAME_MAX, RenameInput, createRenameDraft } from "./RenameInput";

export interface ProjectItemProps {
  project: Project;
  selected: boolean;
  /** Its name is being edited (one project at a time: the panel keeps which). */
  renaming: boolean;
  onRenaming: (on: boolean) => void;
  onSelect: () => void;
  onChanged: () => void;
  onDeleted: () => void;
}

/** A project's video in two short lines: what it looks like, then how long it is. */
export function projectMeta(p: Project): [string, string] {
  const v = p.video;
  const fps = v.fps ? `${Math.round(v.fps * 100) / 100} fps` : "";
  return [[sizeLabel(v), fps].filter(Boolean).join(" · "), `${frameCountLabel(v.frame_count)} · ${formatDuration(v.duration)}`];
}

/** The server's notes on how the project's video is read (a file cut short, an alpha channel
 * ignored) as sentences; "" when there are none (most videos, an older server). */
export function videoNotes(p: Project): string {
  const sentence = (n: string) => `${n.charAt(0).toUpperCase()}${n.slice(1)}${/[.!?]$/.test(n) ? "" : "."}`;
  return (p.video.notes ?? []).map(sentence).join(" ");
}

/** The video's notes in words (nothing when it has none), cut to the space there is: whole
 * in the title on hover and to a screen reader. */
export function VideoNotes(props: { project: Project; testid: string }) {
  return (
    <Show when={videoNotes(props.project)}>
      {(notes) => (
        <span class="video-notes" data-testid={props.testid} title={notes()}>
          {`Note: ${notes()}`}
        </span>
      )}
    </Show>
  );
}

/** One project in the list: thumbnail, name (renamed in place), video facts, rename and delete.
 * The name is the button that opens the project; a click anywhere else on the row does too. */
export function ProjectItem(props: ProjectItemProps) {
  const p = () => props.project;
  let renameButton!: HTMLButtonElement;
  // The name the server took last, and the list's project then: the list is read again after a
  // rename, a while later. Until it is, the taken name is the project's: a rename back to the
  // list's old name meanwhile is a change, sent, not "unchanged". Any list shown after it (each
  // read brings new values) is the truth, another tab's rename back to that old name too.
  const [taken, setTaken] = createSignal<{ name: string; over: Project }>();
  const serverName = () => {
    const t = taken();
    return t && t.over === p() ? t.name : p().name;
  };

  const draft = createRenameDraft(
    async (name) => {
      try {
        const renamed = await api.renameProject(p().id, name);
        setTaken({ name: renamed.name, over: p() });
        props.onChanged();
        return true;
      } catch (e) {
        showError(errorText(e), "Rename failed");
        return false;
      }
    },
    () => props.onRenaming(true),
    () => renameButton,
    serverName,
  );
  const unsaved = draft.unsaved;
  // Closing the page while a name is on its way or unsaved asks first.
  useLeaveGuard(draft.typed);

  const remove = async () => {
    const ok = await confirmAction({
      title: "Delete project?",
      message: `"${serverName()}" with its points, objects and every matting result will be deleted. This cannot be undone.`,
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteProject(p().id);
      props.onDeleted();
      props.onChanged();
    } catch (e) {
      showError(errorText(e), "Delete failed");
    }
  };

  return (
    <div
      class={`project-item ${props.selected ? "selected" : ""}`}
      data-testid="project-item"
      data-project-id={p().id}
      onClick={() => props.onSelect()}
      onKeyDown={(e) => rowDeleteKey(e, () => void remove())}
    >
      <div class="thumb">
        <img src={urls.thumbnail(p().id)} alt="" loading="lazy" data-testid="project-thumbnail" onError={(e) => e.currentTarget.classList.add("broken")} />
      </div>
      <div class="project-info">
        <Show
          when={props.renaming}
          fallback={
            // Its click is the row's (above): one handler for the name and the rest of the row.
            <button class="row-main" data-testid="project-open" aria-current={props.selected}>
              <span
                class="project-name"
                classList={{ unsaved: unsaved() }}
                data-testid="project-name"
                data-unsaved={unsaved() ? "true" : "false"}
                title={`${unsaved() ? `Not saved (the name is still "${serverName()}"): Rename to send it again` : serverName()}\n${p().filename}`}
              >
                {draft.shown(serverName())}
              </span>
              <Show when={unsaved()}>
                <span class="visually-hidden"> (not saved)</span>
              </Show>
            </button>
          }
        >
          <RenameInput
            name={serverName()}
            maxLength={PROJECT_NAME_MAX}
            testid="project-rename-input"
            returnFocus={() => renameButton}
            onClose={() => props.onRenaming(false)}
            unsaved={draft.unsavedName()}
            sending={draft.sendingName()}
            onRename={(name) => void draft.renameTo(name)}
            onCancel={draft.cancel}
          />
        </Show>
        <div class="project-meta muted" data-testid="project-meta">
          <span>{projectMeta(p())[0]}</span>
          <span>{projectMeta(p())[1]}</span>
          {/* Kept with the project: the upload's message goes. */}
          <VideoNotes project={p()} testid="project-notes" />
        </div>
      </div>
      <div class="item-actions">
        <button
          ref={renameButton}
          class="icon-btn"
          title="Rename"
          aria-label={`Rename ${serverName()}`}
          data-testid="project-rename"
          onClick={(e) => {
            e.stopPropagation();
            props.onRenaming(true);
          }}
        >
          <Icon name="edit" size={14} />
        </button>
        <button
          class="icon-btn danger"
          title="Delete"
          aria-label={`Delete ${serverName()}`}
          data-testid="project-delete"
          onClick={(e) => {
            e.stopPropagation();
            void remove();
          }}
        >
          <Icon name="trash" size={14} />
        </button>
      </div>
    </div>
  );
}
