import { Show } from "solid-js";
import { pendingConfirm, type ConfirmRequest } from "../confirm";
import { useEscapeCancels, useFocusTrap } from "../focusTrap";

/** The confirmation itself: focus starts on Cancel, so Enter never confirms a deletion. */
function ConfirmDialog(props: { request: ConfirmRequest }) {
  let dialog!: HTMLDivElement;
  let cancel!: HTMLButtonElement;
  useFocusTrap(
    () => dialog,
    () => cancel,
  );
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.request.resolve(false)}>
      <div class="modal modal-small" role="alertdialog" aria-modal="true" aria-label={props.request.title} data-testid="confirm-dialog" ref={dialog}>
        <h2>{props.request.title}</h2>
        <p class="muted">{props.request.message}</p>
        <div class="modal-actions">
          <button class="btn" data-testid="confirm-cancel" ref={cancel} onClick={() => props.request.resolve(false)}>
            Cancel
          </button>
          <button class={`btn ${props.request.danger ? "btn-danger" : "btn-primary"}`} data-testid="confirm-ok" onClick={() => props.request.resolve(true)}>
            {props.request.confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

export function ConfirmHost() {
  useEscapeCancels(() => {
    const p = pendingConfirm();
    return p && (() => p.resolve(false));
  });
  return (
    <Show when={pendingConfirm()} keyed>
      {(p) => <ConfirmDialog request={p} />}
    </Show>
  );
}
