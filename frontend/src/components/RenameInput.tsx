// A name edited in place (projects, objects): Enter or leaving the field saves, Escape
// cancels. Closing the field removes the input, and the browser then blurs it: only the first
// of Enter, Escape and blur counts, so Escape never saves and Enter saves once. Enter and
// Escape hand the keyboard focus back (the removed input would drop it to the page's top).
// A name typed before that the server did not take opens the field again (`unsaved`): Enter
// sends it again as it is, Escape gives it up. One still on its way opens it too (`sending`):
// Enter leaves it on its way, Escape gives it up.

import { createSignal, onCleanup, untrack } from "solid-js";
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
  /** A name typed before and on its way to the server: the field starts with it; Enter with
   * it as it is leaves it on its way, Escape (or a blank name) gives it up. */
  sending?: string;
  /** Close the field (called once, whatever ended the edit). */
  onClose: () => void;
  /** A new name: trimmed, not blank, not the old one (or the unsaved one again). */
  onRename: (name: string) => void;
  /** The edit ended with no name to save (Escape, a blank name, the old one): an unsaved one
   * or one on its way is given up. */
  onCancel?: () => void;
}

/** A row's name typed and sent (`renameTo`), shown until the server's answer and kept when the
 * server did not take it (away, its disk full, the name refused), to send again rather than
 * type again. `save` resolves whether the server took it; `reopen` opens the field again,
 * which happens when the edit ended by Enter (the focus is back on `renameButton`), not when
 * the focus went elsewhere meanwhile (the field would take it). `current`: the server's name as
 * the row shows it.
 *
 * One name of the row is on the wire at a time: two requests sent together may be answered out
 * of order, and the older name would win. A name typed meanwhile waits, and only the latest is
 * sent once the one on the wire is answered; given up meanwhile (Escape), the name the server
 * had before is sent back if the one on the wire was taken. The row gone (deleted, the editor
 * closed), nothing more is sent. */
export function createRenameDraft(save: (name: string) => Promise<boolean>, reopen: () => void, renameButton: () => HTMLElement, current: () => string) {
  const [draft, setDraft] = createSignal<{ name: string; unsaved: boolean }>();
  const unsaved = () => !!draft()?.unsaved;
  /** The names on their way, one after the other: resolves once the last answer is shown
   * (taken, or kept unsaved). */
  let sending: Promise<void> | undefined;
  /** Names are being sent: one typed now waits for its turn (set and cleared in step with the
   * sending loop, not with its promise, which settles a moment after the loop ends). */
  let running = false;
  /** The server's name while names are on their way: the last it took, else the one before. */
  let known = "";
  let gone = false;
  onCleanup(() => (gone = true));
  /** Send the draft, then each one typed while its predecessor was on the wire, until the
   * server's name is the one wanted, or one is not taken. */
  const sendAll = async () => {
    running = true;
    known = current();
    try {
      for (let mine = draft(); mine && !mine.unsaved && !gone; mine = draft()) {
        if (mine.name === known) return void setDraft(undefined); // given up: the old name stays
        const saved = await save(mine.name);
        if (saved) known = mine.name;
        if (draft() !== mine) continue; // typed again or given up meanwhile: the latest goes
        if (saved) return void setDraft(undefined);
        setDraft({ name: mine.name, unsaved: true });
        if (document.activeElement === renameButton()) reopen();
        return;
      }
    } finally {
      running = false;
    }
  };
  return {
    /** The name to show: the one typed, until the server's answer, or `saved`. */
    shown: (saved: string) => draft()?.name ?? saved,
    unsaved,
    /** A name typed would go with the row (or the page): it is on its way to the server (a
     * request the page's end would stop, or whose refusal no row would keep), or not taken. */
    typed: () => draft() !== undefined,
    /** Resolves once the names on their way are answered (and `typed` says what is left of
     * them); undefined when none is on its way. */
    answered: () => (running ? sending : undefined),
    /** The typed name the server did not take, for RenameInput's `unsaved`. */
    unsavedName: () => (unsaved() ? draft()!.name : undefined),
    /** The typed name on its way (or waiting to go), for RenameInput's `sending`. */
    sendingName: () => (draft() && !unsaved() ? draft()!.name : undefined),
    renameTo(name: string): Promise<void> {
      setDraft({ name, unsaved: false });
      // While names are being sent, this one goes once the name on the wire is answered.
      if (!running) sending = sendAll();
      return sending!;
    },
    /** Give the typed name up (RenameInput's `onCancel`): one not taken is dropped; one on its
     * way is followed by the server's name before it, should the server take it. */
    cancel: () => setDraft(running ? { name: known, unsaved: false } : undefined),
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
    if (name && name === props.sending) return; // it is on its way already
    if (name && (name !== props.name || props.unsaved !== undefined || props.sending !== undefined)) props.onRename(name);
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
      // What it opens with: a name answered or read while it is open does not overwrite what is
      // being typed.
      value={untrack(() => props.unsaved ?? props.sending ?? props.name)}
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
