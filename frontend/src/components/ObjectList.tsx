import { For, Show, createMemo, createSignal } from "solid-js";
import type { MatteObject } from "../api";
import { rowDeleteKey } from "../keyboard";
import { UNSAVED_OBJECT_NAME, useProjectLeaveGuard } from "../leaveGuard";
import { useListFocus } from "../listFocus";
import { Icon } from "./Icon";
import { OBJECT_NAME_MAX, RenameInput, createRenameDraft } from "./RenameInput";

export interface ObjectListProps {
  objects: MatteObject[];
  selectedId: number | null;
  pointCounts: Map<number, number>;
  onSelect: (oid: number) => void;
  onAdd: () => void;
  /** Resolves false when the server did not take the name: the row keeps it, unsaved. */
  onRename: (oid: number, name: string) => Promise<boolean> | void;
  /** `shown`: the name the row shows (one typed may be on its way, or not taken), for what is
   * said should the object be gone. */
  onColor: (oid: number, color: string, shown: string) => void;
  /** `shown`: the name the row shows (one typed may be on its way, or not taken), for the
   * question asked before deleting. */
  onDelete: (oid: number, shown: string) => void;
}

export function ObjectList(props: ObjectListProps) {
  const [editing, setEditing] = createSignal<number | null>(null);
  // Rows by id: a renamed object is a new value, and its row (with the focus in it) stays.
  const byId = createMemo(() => new Map(props.objects.map((o) => [o.id, o])));
  let list!: HTMLUListElement;
  let add!: HTMLButtonElement;
  useListFocus(
    () => list,
    "[data-testid=object-item]",
    "[data-testid=object-select]",
    () => add,
  );
  return (
    <section class="section">
      <div class="section-head">
        <h3>Objects</h3>
        <button ref={add} class="btn btn-small" data-testid="object-add" title="New object (N)" onClick={() => props.onAdd()}>
          <Icon name="plus" size={13} /> Object
        </button>
      </div>
      <Show when={props.objects.length === 0}>
        <p class="muted small">Click on the video to start: an object is created for you.</p>
      </Show>
      <ul ref={list} class="object-list" data-testid="object-list">
        <For each={props.objects.map((o) => o.id)}>
          {(id, i) => {
            const o = () => byId().get(id)!;
            const count = () => props.pointCounts.get(id) ?? 0;
            let rename!: HTMLButtonElement;
            const draft = createRenameDraft(
              async (name) => (await props.onRename(id, name)) !== false,
              () => setEditing(id),
              () => rename,
              () => o().name,
            );
            // Kept only in this editor: leaving the project or the page asks first, while the
            // name is on its way too (leaving the project waits a moment for its answer).
            useProjectLeaveGuard(draft.typed, UNSAVED_OBJECT_NAME, draft.answered);
            return (
            <li
              class={`object-item ${props.selectedId === id ? "selected" : ""}`}
              data-testid="object-item"
              data-object-id={id}
              data-selected={props.selectedId === id ? "true" : "false"}
              onClick={() => props.onSelect(id)}
              onKeyDown={(e) => rowDeleteKey(e, () => props.onDelete(id, draft.shown(o().name)))}
              onDblClick={() => setEditing(id)}
              title={`${o().name} — key ${i() + 1}; double-click to rename`}
            >
              <label class="swatch" style={{ background: o().color }} title="Change colour" onClick={(e) => e.stopPropagation()}>
                <input
                  type="color"
                  value={o().color}
                  data-testid="object-color"
                  aria-label={`Colour of ${o().name}`}
                  onChange={(e) => {
                    const picker = e.currentTarget;
                    props.onColor(id, picker.value, draft.shown(o().name));
                    // The object's colour until the server takes the new one (it may refuse):
                    // what the swatch shows, and where picking again starts.
                    picker.value = o().color;
                  }}
                />
              </label>
              <Show
                when={editing() === id}
                fallback={
                  // Its click is the row's (above): one handler for the name and the rest of the row.
                  <button class="row-main object-select" data-testid="object-select" aria-pressed={props.selectedId === id}>
                    <span
                      class="object-name"
                      classList={{ unsaved: draft.unsaved() }}
                      data-testid="object-name"
                      data-unsaved={draft.unsaved() ? "true" : "false"}
                      title={draft.unsaved() ? `Not saved (the name is still "${o().name}"): Rename to send it again` : undefined}
                    >
                      {draft.shown(o().name)}
                    </span>
                    <Show when={draft.unsaved()}>
                      <span class="visually-hidden"> (not saved)</span>
                    </Show>
                  </button>
                }
              >
                <RenameInput
                  name={o().name}
                  maxLength={OBJECT_NAME_MAX}
                  testid="object-rename-input"
                  returnFocus={() => rename}
                  onClose={() => setEditing(null)}
                  unsaved={draft.unsavedName()}
                  sending={draft.sendingName()}
                  onRename={(name) => void draft.renameTo(name)}
                  onCancel={draft.cancel}
                />
              </Show>
              <span class="count muted" title="points on all frames">
                {count()}
                {/* The number alone reads as a bare number: its meaning is only in the tooltip. */}
                <span class="visually-hidden">{count() === 1 ? " point" : " points"}</span>
              </span>
              <button
                ref={rename}
                class="icon-btn"
                title="Rename"
                aria-label={`Rename ${o().name}`}
                data-testid="object-rename"
                onClick={(e) => {
                  e.stopPropagation();
                  setEditing(id);
                }}
              >
                <Icon name="edit" size={13} />
              </button>
              <button
                class="icon-btn danger"
                title="Delete object"
                aria-label={`Delete ${o().name}`}
                data-testid="object-delete"
                onClick={(e) => {
                  e.stopPropagation();
                  props.onDelete(id, draft.shown(o().name));
                }}
              >
                <Icon name="trash" size={13} />
              </button>
            </li>
            );
          }}
        </For>
      </ul>
    </section>
  );
}
