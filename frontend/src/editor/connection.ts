// Watching the server: while it does not answer, probe it with a growing pause, and when it
// answers again run what waited for it (unsaved points). While it answers, a slow heartbeat
// notices a server that died while the user was idle.
import { createEffect, on, onCleanup, type Accessor } from "solid-js";

export interface ConnectionWatch {
  /** The server's last known state (api.ts `online`). */
  online: Accessor<boolean>;
  /** Ask the server once; resolves when it answers, rejects when not (and sets `online`). */
  probe: () => Promise<unknown>;
  /** Runs each time the server is back. */
  onBack: () => void;
  /** Pause between probes while offline: starts at `retryMs`, doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  heartbeatMs?: number;
}

/** The pause before probe number `attempt` (0-based) while offline. */
export function retryDelay(attempt: number, retryMs: number, maxRetryMs: number): number {
  return Math.min(maxRetryMs, retryMs * 2 ** Math.min(attempt, 16));
}

export function watchConnection(w: ConnectionWatch): void {
  const retryMs = w.retryMs ?? 1000;
  const maxRetryMs = w.maxRetryMs ?? 5000;
  const heartbeatMs = w.heartbeatMs ?? 15000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wentOffline = false;
  let disposed = false;
  const schedule = (ms: number, attempt: number) => {
    clearTimeout(timer);
    if (disposed) return;
    timer = setTimeout(() => {
      void w
        .probe()
        .catch(() => undefined)
        .then(() => {
          if (w.online()) schedule(heartbeatMs, -1);
          else schedule(retryDelay(attempt + 1, retryMs, maxRetryMs), attempt + 1);
        });
    }, ms);
  };
  createEffect(
    on(w.online, (up) => {
      if (up) {
        if (wentOffline) w.onBack();
        wentOffline = false;
        schedule(heartbeatMs, -1);
      } else {
        wentOffline = true;
        schedule(retryDelay(0, retryMs, maxRetryMs), 0);
      }
    }),
  );
  onCleanup(() => {
    disposed = true;
    clearTimeout(timer);
  });
}
