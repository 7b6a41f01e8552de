import { createRoot, createSignal } from "solid-js";
import { describe, expect, it } from "vitest";
import { createPreviews } from "./previews";

function setup(opts: { saves?: Promise<void>[] } = {}) {
  return createRoot((dispose) => {
    const [online, setOnline] = createSignal(true);
    const fetches: { frame: number; signal: AbortSignal; resolve: (b: Blob) => void }[] = [];
    const reports: string[] = [];
    const previews = createPreviews({
      fetch: (frame, signal) =>
        new Promise<Blob>((resolve, reject) => {
          fetches.push({ frame, signal, resolve });
          signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
      pendingSaves: () => opts.saves ?? [],
      online,
      report: (_e, title) => reports.push(title),
    });
    return { previews, fetches, reports, setOnline, dispose };
  });
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("previews", () => {
  it("asks the server for no preview once the editor closed (an answer that came after Leave asked for one)", async () => {
    const s = setup();
    s.dispose();
    await s.previews.refresh(3);
    expect([s.fetches.length, s.previews.busy(3), s.previews.pending(3), s.reports]).toEqual([0, false, false, []]);
  });

  it("the newest request of a frame wins; the older one is aborted and reports nothing", async () => {
    const s = setup();
    const first = s.previews.refresh(3);
    await settle();
    const second = s.previews.refresh(3);
    await settle();
    expect(s.fetches.map((f) => f.signal.aborted)).toEqual([true, false]);
    expect(s.previews.busy(3)).toBe(true);
    s.fetches[1].resolve(new Blob(["png"]));
    await Promise.all([first, second]);
    expect(s.previews.has(3)).toBe(true);
    expect(s.previews.busy(3)).toBe(false);
    expect(s.reports).toEqual([]);
  });

  it("waits for the frame's saves before asking the server", async () => {
    let landed!: () => void;
    const save = new Promise<void>((r) => (landed = r));
    const s = setup({ saves: [save] });
    const done = s.previews.refresh(1);
    await settle();
    expect(s.fetches).toHaveLength(0);
    landed();
    await settle();
    expect(s.fetches).toHaveLength(1);
    s.fetches[0].resolve(new Blob(["png"]));
    await done;
  });

  it("asks nothing while the server is away", async () => {
    const s = setup();
    s.setOnline(false);
    await s.previews.refresh(1);
    expect(s.fetches).toHaveLength(0);
    expect(s.previews.busy(1)).toBe(false);
  });

  it("drops the previews of other frames (their points may have changed)", async () => {
    const s = setup();
    for (const f of [1, 2]) {
      const p = s.previews.refresh(f);
      await settle();
      s.fetches.at(-1)!.resolve(new Blob(["png"]));
      await p;
    }
    s.previews.dropExcept(new Set([2]));
    expect(s.previews.has(1)).toBe(false);
    expect(s.previews.has(2)).toBe(true);
  });
});
