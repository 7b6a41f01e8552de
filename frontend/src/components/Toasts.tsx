import { For } from "solid-js";
import { dismiss, toasts } from "../toasts";
import { Icon } from "./Icon";

export function Toasts() {
  return (
    <div class="toasts" role="region" aria-label="Messages">
      <For each={toasts()}>
        {(t) => (
          <div
            class={`toast toast-${t.kind}`}
            role={t.kind === "error" ? "alert" : "status"}
            data-testid={t.kind === "error" ? "error-message" : "info-message"}
          >
            <div class="toast-body">
              {t.title && <div class="toast-title">{t.title}</div>}
              <div class="toast-text">{t.text}</div>
            </div>
            {/* Named after its message: with several shown, "Dismiss" alone doesn't say which goes. */}
            <button class="icon-btn" aria-label={`Dismiss: ${t.title || t.text}`} onClick={() => dismiss(t.id)}>
              <Icon name="close" size={14} />
            </button>
          </div>
        )}
      </For>
    </div>
  );
}
