import { For, Show, createSignal } from "solid-js";
import type { MatteObject } from "../api";
import { pressRowOnKey } from "../keyboard";
import { Icon } from "./Icon";
import { OBJECT_NAME_MAX, RenameInput } from "./RenameInput";

export interface ObjectListProps {
  objects: MatteObject[];
  selectedId: number | null;
  pointCounts: Map<number, number>;
  onSelect: (oid: number) => void;
  onAdd: () => void;
  onRename: (oid: number, name: string) => void;
  onColor: (oid: number, color: string) => void;
  onDelete: (oid: number) => void;
}

export function ObjectList(props: ObjectListProps) {
  const [editing, setEditing] = createSignal<number | null>(null);
  return (
    <section class="section">
      <div class="section-head">
        <h3>Objects</h3>
        <button class="btn btn-small" data-testid="object-add" title="New object (N)" onClick={() => props.onAdd()}>
          <Icon name="plus" size={13} /> Object
        </button>
      </div>
      <Show when={props.objects.length === 0}>
        <p class="muted small">Click on the video to start: an object is created for you.</p>
      </Show>
      <ul class="object-list" data-testid="object-list">
        <For each={props.objects}>
          {(o, i) => (
            <li
              class={`object-item ${props.selectedId === o.id ? "selected" : ""}`}
              data-testid="object-item"
              data-object-id={o.id}
              data-selected={props.selectedId === o.id ? "true" : "false"}
              role="button"
              tabIndex={0}
              aria-pressed={props.selectedId === o.id}
              onClick={() => props.onSelect(o.id)}
              onKeyDown={(e) => pressRowOnKey(e, () => props.onSelect(o.id))}
              onDblClick={() => setEditing(o.id)}
              title={`${o.name} — key ${i() + 1}; double-click to rename`}
            >
              <label class="swatch" style={{ background: o.color }} title="Change colour" onClick={(e) => e.stopPropagation()}>
                <input
                  type="color"
                  value={o.color}
                  data-testid="object-color"
                  aria-label={`Colour of ${o.name}`}
                  onChange={(e) => props.onColor(o.id, e.currentTarget.value)}
                />
              </label>
              <Show
                when={editing() === o.id}
                fallback={
                  <span class="object-name" data-testid="object-name">
                    {o.name}
                  </span>
                }
              >
                <RenameInput
                  name={o.name}
                  maxLength={OBJECT_NAME_MAX}
                  testid="object-rename-input"
                  onClose={() => setEditing(null)}
                  onRename={(name) => props.onRename(o.id, name)}
                />
              </Show>
              <span class="count muted" title="points on all frames">
                {props.pointCounts.get(o.id) ?? 0}
              </span>
              <button
                class="icon-btn"
                title="Rename"
                aria-label={`Rename ${o.name}`}
                data-testid="object-rename"
                onClick={(e) => {
                  e.stopPropagation();
                  setEditing(o.id);
                }}
              >
                <Icon name="edit" size={13} />
              </button>
              <button
                class="icon-btn danger"
                title="Delete object"
                aria-label={`Delete ${o.name}`}
                data-testid="object-delete"
                onClick={(e) => {
                  e.stopPropagation();
                  props.onDelete(o.id);
                }}
              >
                <Icon name="trash" size={13} />
              </button>
            </li>
          )}
        </For>
      </ul>
    </section>
  );
}
