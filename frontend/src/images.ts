// Decoded images (frames, mattes) fetched with readable errors and kept in a small LRU.

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

export class ImageCache {
  private readonly items = new Map<string, HTMLImageElement>();
  private readonly inflight = new Map<string, Promise<HTMLImageElement>>();

  constructor(private readonly limit = 60) {}

  get(key: string): HTMLImageElement | undefined {
    const img = this.items.get(key);
    if (img) {
      // refresh LRU position
      this.items.delete(key);
      this.items.set(key, img);
    }
    return img;
  }

  load(key: string, fetcher: () => Promise<Blob>): Promise<HTMLImageElement> {
    const hit = this.get(key);
    if (hit) return Promise.resolve(hit);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = fetcher()
      .then(blobToImage)
      .then((img) => {
        this.items.set(key, img);
        this.evict();
        return img;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** Forget entries whose key starts with `prefix` (or all). */
  drop(prefix = ""): void {
    for (const [key, img] of [...this.items]) {
      if (key.startsWith(prefix)) {
        this.items.delete(key);
        URL.revokeObjectURL(img.src);
      }
    }
  }

  private evict(): void {
    while (this.items.size > this.limit) {
      const [key, img] = this.items.entries().next().value as [string, HTMLImageElement];
      this.items.delete(key);
      URL.revokeObjectURL(img.src);
    }
  }
}
