// Decoded images (frames, mattes) fetched with readable errors and kept in an LRU bounded by
// the bytes they take once decoded (a 4K frame weighs as much as 70 small ones). A request is
// shared by everyone who asks for the same key; its fetch is aborted once all of them gave up.

export function blobToImage(blob: Blob): Promise<HTMLImageElement> {
  const url = URL.createObjectURL(blob);
  const img = new Image();
  return new Promise<HTMLImageElement>((resolve, reject) => {
    img.onload = () => resolve(img);
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error("The server sent an image the browser cannot decode."));
    };
    img.src = url;
  });
}

/** What a decoded image costs in memory: 4 bytes a pixel. */
export const decodedBytes = (img: HTMLImageElement): number => Math.max(1, img.naturalWidth * img.naturalHeight * 4);

export function abortError(): DOMException {
  return new DOMException("The request was superseded.", "AbortError");
}

export function isAbort(e: unknown): boolean {
  return (e as Error | null)?.name === "AbortError";
}

export interface ImageCacheOptions {
  /** Most bytes the decoded images may take together (the newest one is always kept). */
  maxBytes: number;
  decode?: (blob: Blob) => Promise<HTMLImageElement>;
  release?: (img: HTMLImageElement) => void;
}

interface Inflight {
  controller: AbortController;
  promise: Promise<HTMLImageElement>;
  /** Callers with a signal still waiting. */
  waiters: number;
  /** A caller without a signal waits: the fetch is never aborted. */
  pinned: boolean;
}

export class ImageCache {
  private readonly items = new Map<string, { img: HTMLImageElement; bytes: number }>();
  private readonly inflight = new Map<string, Inflight>();
  private total = 0;
  private readonly maxBytes: number;
  private readonly decode: (blob: Blob) => Promise<HTMLImageElement>;
  private readonly release: (img: HTMLImageElement) => void;

  constructor(opts: ImageCacheOptions) {
    this.maxBytes = opts.maxBytes;
    this.decode = opts.decode ?? blobToImage;
    this.release = opts.release ?? ((img) => URL.revokeObjectURL(img.src));
  }

  /** Bytes the cached images take. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): HTMLImageElement | undefined {
    const item = this.items.get(key);
    if (item) {
      // refresh LRU position
      this.items.delete(key);
      this.items.set(key, item);
    }
    return item?.img;
  }

  /**
   * The image of `key`, fetched once however many ask. `signal` withdraws this caller (its
   * promise rejects with an AbortError); the fetch itself stops when no caller is left.
   */
  load(key: string, fetcher: (signal: AbortSignal) => Promise<Blob>, signal?: AbortSignal): Promise<HTMLImageElement> {
    const hit = this.get(key);
    if (hit) return Promise.resolve(hit);
    if (signal?.aborted) return Promise.reject(abortError());
    let entry = this.inflight.get(key);
    if (!entry) {
      const controller = new AbortController();
      const created: Inflight = { controller, waiters: 0, pinned: false, promise: null as unknown as Promise<HTMLImageElement> };
      created.promise = fetcher(controller.signal)
        .then(this.decode)
        .then((img) => {
          if (controller.signal.aborted) this.release(img);
          else this.put(key, img);
          return img;
        })
        .finally(() => {
          if (this.inflight.get(key) === created) this.inflight.delete(key);
        });
      this.inflight.set(key, created);
      entry = created;
    }
    return this.wait(key, entry, signal);
  }

  private wait(key: string, entry: Inflight, signal?: AbortSignal): Promise<HTMLImageElement> {
    if (!signal) {
      entry.pinned = true;
      return entry.promise;
    }
    entry.waiters++;
    return new Promise<HTMLImageElement>((resolve, reject) => {
      const onAbort = () => {
        entry.waiters--;
        reject(abortError());
        if (entry.waiters === 0 && !entry.pinned) {
          entry.controller.abort();
          if (this.inflight.get(key) === entry) this.inflight.delete(key);
        }
      };
      signal.addEventListener("abort", onAbort, { once: true });
      entry.promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  private put(key: string, img: HTMLImageElement): void {
    this.remove(key);
    const bytes = decodedBytes(img);
    this.items.set(key, { img, bytes });
    this.total += bytes;
    for (const k of this.items.keys()) {
      if (this.total <= this.maxBytes || this.items.size <= 1) break;
      this.remove(k);
    }
  }

  private remove(key: string): void {
    const item = this.items.get(key);
    if (!item) return;
    this.items.delete(key);
    this.total -= item.bytes;
    this.release(item.img);
  }

  /** Forget entries whose key starts with `prefix` (or all), and stop their fetches. */
  drop(prefix = ""): void {
    for (const key of [...this.items.keys()]) if (key.startsWith(prefix)) this.remove(key);
    for (const [key, entry] of [...this.inflight]) {
      if (key.startsWith(prefix)) {
        entry.controller.abort();
        this.inflight.delete(key);
      }
    }
  }
}
