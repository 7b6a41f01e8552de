// "Only the latest request wins": each key (e.g. a frame) hands out increasing tokens;
// a response is applied only when its token is still the newest for its key.

export class LatestTracker<K = string | number> {
  private seq = 0;
  private readonly latest = new Map<K, number>();
  private readonly controllers = new Map<K, AbortController>();

  /** Start a request for `key`: aborts the previous one and returns its token + signal. */
  begin(key: K): { token: number; signal: AbortSignal } {
    this.controllers.get(key)?.abort();
    const controller = new AbortController();
    const token = ++this.seq;
    this.latest.set(key, token);
    this.controllers.set(key, controller);
    return { token, signal: controller.signal };
  }

  isLatest(key: K, token: number): boolean {
    return this.latest.get(key) === token;
  }

  /** Mark the request finished (only if it is still the latest). */
  end(key: K, token: number): void {
    if (this.isLatest(key, token)) this.controllers.delete(key);
  }

  /** Whether some request for `key` is in flight. */
  pending(key: K): boolean {
    return this.controllers.has(key);
  }

  /** Invalidate everything in flight for `key` (or every key). */
  cancel(key?: K): void {
    const keys = key === undefined ? [...this.controllers.keys()] : [key];
    for (const k of keys) {
      this.controllers.get(k)?.abort();
      this.controllers.delete(k);
      this.latest.set(k, ++this.seq);
    }
  }
}

/** A request `OneRequest.ask` started. */
export interface Asked {
  signal: AbortSignal;
  /** Whether it is still the request wanted (its answer may be shown). */
  current: () => boolean;
  /** Mark it answered: asked for again, it is sent again. */
  end: () => void;
}

/**
 * One request at a time, named by what it is for. Asking for something else aborts the one on
 * its way; asking again for the one on its way lets it be: a running job comes anew with each
 * frame it makes, and asking again at each progress event would cut its matte off each time,
 * so it might never come. Once it ended (answered, or failed: not matted yet), it is sent again.
 */
export class OneRequest {
  private readonly tracker = new LatestTracker<"request">();
  private wanted: string | null = null;

  /** Start the request for `what`; null when that one is already on its way. */
  ask(what: string): Asked | null {
    if (what === this.wanted && this.tracker.pending("request")) return null;
    this.wanted = what;
    const { token, signal } = this.tracker.begin("request");
    return {
      signal,
      current: () => this.tracker.isLatest("request", token),
      end: () => this.tracker.end("request", token),
    };
  }

  /** Abort the request on its way, if any: its answer is not wanted any more. */
  cancel(): void {
    this.wanted = null;
    this.tracker.cancel();
  }
}
