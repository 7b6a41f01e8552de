import { Show, onCleanup, onMount } from "solid-js";
import { pendingConfirm } from "../confirm";

export function ConfirmHost() {
  const onKey = (e: KeyboardEvent) => {
    const p = pendingConfirm();
    if (!p) return;
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopImmediatePropagation();
      p.resolve(false);
    }
  };
  onMount(() => window.addEventListener("keydown", onKey, true));
  onCleanup(() => window.removeEventListener("keydown", onKey, true));
  return (
    <Show when={pendingConfirm()}>
      {(p) => (
        <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && p().resolve(false)}>
          <div class="modal modal-small" role="alertdialog" aria-modal="true" data-testid="confirm-dialog">
            <h2>{p().title}</h2>
            <p class="muted">{p().message}</p>
            <div class="modal-actions">
              <button class="btn" data-testid="confirm-cancel" onClick={() => p().resolve(false)}>
                Cancel
              </button>
              <button
                class={`btn ${p().danger ? "btn-danger" : "btn-primary"}`}
                data-testid="confirm-ok"
                ref={(el) => queueMicrotask(() => el.focus())}
                onClick={() => p().resolve(true)}
              >
                {p().confirmLabel}
              </button>
            </div>
          </div>
        </div>
      )}
    </Show>
  );
}
