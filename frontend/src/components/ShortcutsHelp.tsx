import { For } from "solid-js";
import { SHORTCUTS } from "../keyboard";

export function ShortcutsHelp(props: { onClose: () => void }) {
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="modal modal-small" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" data-testid="shortcuts-help">
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
          <button class="btn btn-primary" onClick={() => props.onClose()}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
