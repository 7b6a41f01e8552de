// A promise-based confirmation dialog (rendered once by <ConfirmHost/>).
import { createSignal } from "solid-js";

export interface ConfirmRequest {
  title: string;
  message: string;
  confirmLabel: string;
  danger: boolean;
  resolve: (ok: boolean) => void;
}

const [pending, setPending] = createSignal<ConfirmRequest | null>(null);
export { pending as pendingConfirm };

export function confirmAction(opts: { title: string; message: string; confirmLabel?: string; danger?: boolean }): Promise<boolean> {
  pending()?.resolve(false);
  return new Promise((resolve) => {
    setPending({
      title: opts.title,
      message: opts.message,
      confirmLabel: opts.confirmLabel ?? "OK",
      danger: opts.danger ?? false,
      resolve: (ok) => {
        setPending(null);
        resolve(ok);
      },
    });
  });
}
