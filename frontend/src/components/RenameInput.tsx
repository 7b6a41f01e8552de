// A name edited in place (projects, objects): Enter or leaving the field saves, Escape
// cancels. Closing the field removes the input, and the browser then blurs it: only the first
// of Enter, Escape and blur counts, so Escape never saves and Enter saves once. Enter and
// Escape hand the keyboard focus back (the removed input would drop it to the page's top).
// A name typed before that the server did not take opens the field again (`unsaved`): Enter
// sends it again as it is, Escape gives it up.

import { createSignal } from "solid-js";
import { isComposing } from "../keyboard";

export interface RenameInputProps {
  name: string;
  /** The server's longest name, so the field stops there instead of the save failing. */
  maxLength: number;
  testid: string;
  /** Where the focus goes back to when Enter or Escape ends the edit. */
  returnFocus: () => HTMLElement | undefined;
  /** A name typed before and not saved: the field starts with it, marked unsaved. */
  unsaved?: string;
  /** Close the field (called once, whatever ended the edit). */
  onClose: () => void;
  /** A new name: trimmed, not blank, not the old one (or the unsaved one again). */
  onRename: (name: string) => void;
  /** The edit ended with no name to save (Escape, a blank name, the old one): an unsaved one
   * is given up. */
  onCancel?: () => void;
}

/** A row's name typed and sent (`renameTo`), shown until the server's answer and kept when the
 * server did not take it (away, its disk full, the name refused), to send again rather than
 * type again. `save` resolves whether the server took it; `reopen` opens the field again,
 * which happens when the edit ended by Enter (the focus is back on `renameButton`), not when
 * the focus went elsewhere meanwhile (the field would take it). */
export function createRenameDraft(save: (name: string) => Promise<boolean>, reopen: () => void, renameButton: () => HTMLElement) {
  const [draft, setDraft] = createSignal<{ name: string; unsaved: boolean }>();
  const unsaved = () => !!draft()?.unsaved;
  /** The name on its way: resolves once its answer is shown (taken, or kept unsaved). */
  let sending: Promise<void> | undefined;
  /** Show the server's answer to `mine`, unless typed again or given up meanwhile. */
  const answer = (mine: { name: string }, saved: boolean) => {
    if (draft() !== mine) return;
    if (saved) return setDraft(undefined);
    setDraft({ name: mine.name, unsaved: true });
    if (document.activeElement === renameButton()) reopen();
  };
  return {
    /** The name to show: the one typed, until the server's answer, or `saved`. */
    shown: (saved: string) => draft()?.name ?? saved,
    unsaved,
    /** A name typed would go with the row (or the page): it is on its way to the server (a
     * request the page's end would stop, or whose refusal no row would keep), or not taken. */
    typed: () => draft() !== undefined,
    /** Resolves once the name on its way is answered (and `typed` says what is left of it);
     * undefined when none is on its way. */
    answered: () => sending,
    /** The typed name the server did not take, for RenameInput's `unsaved`. */
    unsavedName: () => (unsaved() ? draft()!.name : undefined),
    renameTo(name: string): Promise<void> {
      const mine = { name, unsaved: false };
      setDraft(mine);
      const sent: Promise<void> = save(name)
        .then((saved) => answer(mine, saved))
        .finally(() => {
          if (sending === sent) sending = undefined;
        });
      sending = sent;
      return sent;
    },
    /** Give the unsaved name up (RenameInput's `onCancel`). */
    cancel: () => setDraft(undefined),
  };
}

/** The longest names the server takes (backend/vidmatte/api/schemas.py). */
export const PROJECT_NAME_MAX = 200;
export const OBJECT_NAME_MAX = 100;

export function RenameInput(props: RenameInputProps) {
  let ended = false;
  const end = (value: string | null, byKey = false) => {
    if (ended) return;
    ended = true;
    if (byKey) props.returnFocus()?.focus();
    props.onClose();
    const name = value?.trim();
    if (name && (name !== props.name || props.unsaved !== undefined)) props.onRename(name);
    else props.onCancel?.();
  };
  const unsaved = () => props.unsaved !== undefined;
  return (
    <input
      class="input input-inline"
      classList={{ unsaved: unsaved() }}
      data-testid={props.testid}
      data-unsaved={unsaved() ? "true" : "false"}
      aria-label={`Rename ${props.name}${unsaved() ? " (not saved)" : ""}`}
      title={unsaved() ? "Not saved: Enter sends it again, Escape keeps the old name" : undefined}
      value={props.unsaved ?? props.name}
      maxLength={props.maxLength}
      ref={(el) => queueMicrotask(() => (el.focus(), el.select()))}
      onClick={(e) => e.stopPropagation()}
      onKeyDown={(e) => {
        e.stopPropagation(); // typing is not the editor's shortcuts
        // Enter or Escape that ends an input method's composition (Japanese, Chinese) is the
        // composition's, not the edit's: the name is not typed yet.
        if (isComposing(e) || (e.key !== "Enter" && e.key !== "Escape")) return;
        // The focus goes back to the Rename button before the key is done: unprevented,
        // Enter would press that button and open the field again.
        e.preventDefault();
        end(e.key === "Enter" ? e.currentTarget.value : null, true);
      }}
      onBlur={(e) => end(e.currentTarget.value)}
    />
  );
}
