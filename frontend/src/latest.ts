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
