// A name edited in place (projects, objects): Enter or leaving the field saves, Escape
// cancels. Closing the field removes the input, and the browser then blurs it: only the first
// of Enter, Escape and blur counts, so Escape never saves and Enter saves once.

export interface RenameInputProps {
  name: string;
  /** The server's longest name, so the field stops there instead of the save failing. */
  maxLength: number;
  testid: string;
  /** Close the field (called once, whatever ended the edit). */
  onClose: () => void;
  /** A new name: trimmed, not blank, not the old one. */
  onRename: (name: string) => void;
}

/** The longest names the server takes (backend/vidmatte/api/schemas.py). */
export const PROJECT_NAME_MAX = 200;
export const OBJECT_NAME_MAX = 100;

export function RenameInput(props: RenameInputProps) {
  let ended = false;
  const end = (value: string | null) => {
    if (ended) return;
    ended = true;
    props.onClose();
    const name = value?.trim();
    if (name && name !== props.name) props.onRename(name);
  };
  return (
    <input
      class="input input-inline"
      data-testid={props.testid}
      value={props.name}
      maxLength={props.maxLength}
      ref={(el) => queueMicrotask(() => (el.focus(), el.select()))}
      onClick={(e) => e.stopPropagation()}
      onKeyDown={(e) => {
        e.stopPropagation(); // typing is not the editor's shortcuts
        if (e.key === "Enter") end(e.currentTarget.value);
        if (e.key === "Escape") end(null);
      }}
      onBlur={(e) => end(e.currentTarget.value)}
    />
  );
}
