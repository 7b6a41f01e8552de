// Global toast messages (errors from the server are never silent).
import { createSignal } from "solid-js";

export interface Toast {
  id: number;
  kind: "error" | "info" | "success";
  text: string;
  title?: string;
}

const [toasts, setToasts] = createSignal<Toast[]>([]);
let nextId = 1;

export { toasts };

export function dismiss(id: number): void {
  setToasts((list) => list.filter((t) => t.id !== id));
}

export function notify(kind: Toast["kind"], text: string, title?: string, ms?: number): number {
  const id = nextId++;
  setToasts((list) => {
    // Same message again: don't stack duplicates. The title is part of the message: two
    // failures with the same server text ("the project does not exist") are two messages.
    const rest = list.filter((t) => !(t.text === text && t.kind === kind && t.title === title));
    return [...rest, { id, kind, text, title }].slice(-5);
  });
  const life = ms ?? (kind === "error" ? 9000 : 3500);
  if (life > 0) setTimeout(() => dismiss(id), life);
  return id;
}

export const showError = (text: string, title?: string) => notify("error", text, title);
export const showInfo = (text: string) => notify("info", text);
export const showSuccess = (text: string) => notify("success", text);
