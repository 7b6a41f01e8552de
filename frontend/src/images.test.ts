import { describe, expect, it } from "vitest";
import { ImageCache, isAbort } from "./images";

/** A decoded picture of w×h (what the cache weighs). */
const picture = (w: number, h: number, src = "blob:x") => ({ naturalWidth: w, naturalHeight: h, src }) as HTMLImageElement;

/** A fetch the test resolves by hand, remembering the signal it was given. */
function manualFetch() {
  const calls: { signal: AbortSignal; resolve: (b: Blob) => void; reject: (e: unknown) => void }[] = [];
  const fetcher = (signal: AbortSignal) =>
    new Promise<Blob>((resolve, reject) => {
      calls.push({ signal, resolve, reject });
      signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
  return { calls, fetcher };
}

describe("ImageCache", () => {
  it("is bounded by the decoded bytes, dropping the least recently used first", async () => {
    const released: string[] = [];
    const sizes: Record<string, [number, number]> = { a: [100, 100], b: [100, 100], c: [200, 100] };
    const cache = new ImageCache({
      maxBytes: 100_000, // 100×100×4 = 40 000 a small one
      decode: async (blob) => picture(...sizes[await blob.text()], await blob.text()),
      release: (img) => released.push(img.src),
    });
    await cache.load("a", async () => new Blob(["a"]));
    await cache.load("b", async () => new Blob(["b"]));
    expect(cache.bytes).toBe(80_000);
    cache.get("a"); // a is now the most recent
    await cache.load("c", async () => new Blob(["c"])); // 80 000 more: b and then a must go
    expect(released).toEqual(["b", "a"]);
    expect(cache.bytes).toBe(80_000);
    expect(cache.size).toBe(1);
  });

  it("keeps the newest image even when it alone is over the bound", async () => {
    const cache = new ImageCache({ maxBytes: 10, decode: async () => picture(64, 64), release: () => {} });
    await cache.load("big", async () => new Blob(["x"]));
    expect(cache.get("big")?.naturalWidth).toBe(64);
  });

  it("fetches a key once for every caller and aborts the fetch only when all gave up", async () => {
    const cache = new ImageCache({ maxBytes: 1e9, decode: async () => picture(1, 1), release: () => {} });
    const { calls, fetcher } = manualFetch();
    const one = new AbortController();
    const two = new AbortController();
    const p1 = cache.load("k", fetcher, one.signal);
    const p2 = cache.load("k", fetcher, two.signal);
    expect(calls).toHaveLength(1);
    one.abort();
    await expect(p1).rejects.toSatisfy(isAbort);
    expect(calls[0].signal.aborted).toBe(false); // the second caller still waits
    two.abort();
    await expect(p2).rejects.toSatisfy(isAbort);
    expect(calls[0].signal.aborted).toBe(true);
    // aborted, nothing cached: the next caller fetches anew
    const p3 = cache.load("k", fetcher);
    expect(calls).toHaveLength(2);
    calls[1].resolve(new Blob(["y"]));
    expect((await p3).naturalWidth).toBe(1);
  });

  it("never aborts a fetch that a caller without a signal waits for", async () => {
    const cache = new ImageCache({ maxBytes: 1e9, decode: async () => picture(2, 2), release: () => {} });
    const { calls, fetcher } = manualFetch();
    const pinned = cache.load("k", fetcher);
    const stop = new AbortController();
    const leaving = cache.load("k", fetcher, stop.signal);
    stop.abort();
    await expect(leaving).rejects.toSatisfy(isAbort);
    expect(calls[0].signal.aborted).toBe(false);
    calls[0].resolve(new Blob(["z"]));
    expect((await pinned).naturalWidth).toBe(2);
    expect(cache.get("k")).toBeDefined();
  });

  it("drop forgets cached images and stops fetches of the prefix", async () => {
    const released: string[] = [];
    const cache = new ImageCache({ maxBytes: 1e9, decode: async (b) => picture(1, 1, await b.text()), release: (i) => released.push(i.src) });
    await cache.load("a:1", async () => new Blob(["a1"]));
    await cache.load("f:1", async () => new Blob(["f1"]));
    const { calls, fetcher } = manualFetch();
    const pending = cache.load("a:2", fetcher);
    cache.drop("a:");
    expect(released).toEqual(["a1"]);
    expect(calls[0].signal.aborted).toBe(true);
    await expect(pending).rejects.toSatisfy(isAbort);
    expect(cache.get("f:1")).toBeDefined();
  });
});
