import { createRoot, createSignal } from "solid-js";
import { describe, expect, it } from "vitest";
import type { Job } from "../api";
import { createResults, readView, viewKey } from "./results";

const job = (id: string, over: Partial<Job> = {}) =>
  ({ id, status: "done", start: 10, end: 20, frames_done: 11, frames_total: 11, object_ids: [1], ...over }) as Job;

/** localStorage as a Map (jsdom's works too; this one is fresh per test). */
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    clear: () => m.clear(),
    key: (i) => [...m.keys()][i] ?? null,
    get length() {
      return m.size;
    },
  };
}

function setup(storage: Storage, jobs: Job[], loading = false) {
  return createRoot(() => {
    const [list, setList] = createSignal(jobs);
    const [isLoading, setLoading] = createSignal(loading);
    const [frame, setFrame] = createSignal(0);
    const results = createResults({ pid: "p1", jobs: list, loading: isLoading, frame, setFrame, storage });
    return { results, frame, setList, setLoading };
  });
}

describe("result views", () => {
  it("viewing a result starts in the tint view on its first frame; Prompts views none", () => {
    const s = setup(memoryStorage(), [job("a")]);
    s.results.activate("a");
    expect(s.results.activeJobId()).toBe("a");
    expect(s.results.mode()).toBe("tint");
    expect(s.frame()).toBe(10);
    expect(s.results.shown()?.id).toBe("a");
    s.results.setMode("off");
    // Prompts: no result stays highlighted as "Viewing"
    expect(s.results.activeJobId()).toBeNull();
    expect(s.results.shown()).toBeUndefined();
  });

  it("a reload comes back to the result and the view chosen last", () => {
    const storage = memoryStorage();
    const before = setup(storage, [job("a"), job("b")]);
    before.results.activate("b");
    before.results.setMode("checker");
    expect(JSON.parse(storage.getItem(viewKey("p1"))!)).toEqual({ job: "b", mode: "checker" });
    // the reloaded editor: the saved view applies once the job list is there
    const after = setup(storage, [], true);
    expect(after.results.activeJobId()).toBeNull();
    after.setList([job("a"), job("b")]);
    after.setLoading(false);
    expect(after.results.activeJobId()).toBe("b");
    expect(after.results.mode()).toBe("checker");
  });

  it("a saved view of a result that is gone (or garbage) opens the Prompts view", () => {
    const storage = memoryStorage();
    storage.setItem(viewKey("p1"), JSON.stringify({ job: "gone", mode: "side" }));
    const s = setup(storage, [job("a")]);
    expect(s.results.activeJobId()).toBeNull();
    expect(s.results.mode()).toBe("off");
    storage.setItem(viewKey("p1"), "{not json");
    expect(readView(storage, "p1")).toEqual({ job: null, mode: "off" });
  });

  it("a stopped result with frames can be viewed; one without cannot", () => {
    const s = setup(memoryStorage(), [job("c", { status: "cancelled", frames_done: 4 }), job("d", { status: "interrupted", frames_done: 0 })]);
    s.results.activate("c");
    expect(s.results.shown()?.id).toBe("c");
    s.results.activate("d");
    expect(s.results.shown()).toBeUndefined();
  });

  it("C cycles the views and from Prompts returns to the last viewed result", () => {
    const s = setup(memoryStorage(), [job("a"), job("b")]);
    expect(s.results.cycle(1)).toBe(true); // first finished one
    expect(s.results.activeJobId()).toBe("a");
    s.results.activate("b");
    s.results.setMode("side");
    expect(s.results.cycle(1)).toBe(true); // side → off (the last view wraps to Prompts)
    expect(s.results.mode()).toBe("off");
    expect(s.results.activeJobId()).toBeNull();
    s.results.cycle(1);
    expect(s.results.activeJobId()).toBe("b");
    const none = setup(memoryStorage(), []);
    expect(none.results.cycle(1)).toBe(false);
  });

  it("C and Shift+C visit every view in order, Prompts included, both ways round", () => {
    const s = setup(memoryStorage(), [job("a")]);
    const walk = (delta: number) =>
      Array.from({ length: 7 }, () => {
        s.results.cycle(delta);
        return s.results.mode();
      });
    expect(walk(1)).toEqual(["matte", "tint", "checker", "green", "side", "off", "matte"]);
    s.results.setMode("off");
    expect(walk(-1)).toEqual(["side", "green", "checker", "tint", "matte", "off", "side"]);
    expect(s.results.activeJobId()).toBe("a");
  });
});
