import { For } from "solid-js";
import { useFocusTrap } from "../focusTrap";
import { SHORTCUTS } from "../keyboard";

export function ShortcutsHelp(props: { onClose: () => void }) {
  let dialog!: HTMLDivElement;
  useFocusTrap(() => dialog);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="modal modal-small" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" data-testid="shortcuts-help" ref={dialog}>
        <h2>Keyboard shortcuts</h2>
        <table class="shortcuts">
          <tbody>
            <For each={SHORTCUTS}>
              {([keys, what]) => (
                <tr>
                  <td>
                    <kbd>{keys}</kbd>
                  </td>
                  <td>{what}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
        <div class="modal-actions">
          <button class="btn btn-primary" data-testid="shortcuts-close" onClick={() => props.onClose()}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
