import { describe, expect, it } from "vitest";
import { LatestTracker, OneRequest } from "./latest";

describe("LatestTracker", () => {
  it("lets only the latest request per key win and aborts the older one", () => {
    const t = new LatestTracker<number>();
    const a = t.begin(5);
    const b = t.begin(5);
    const other = t.begin(6);
    expect(a.signal.aborted).toBe(true);
    expect(t.isLatest(5, a.token)).toBe(false);
    expect(t.isLatest(5, b.token)).toBe(true);
    expect(t.isLatest(6, other.token)).toBe(true);
    expect(b.signal.aborted).toBe(false);
  });

  it("tracks pending requests and cancels them", () => {
    const t = new LatestTracker<string>();
    const a = t.begin("x");
    expect(t.pending("x")).toBe(true);
    t.end("x", a.token);
    expect(t.pending("x")).toBe(false);
    const b = t.begin("x");
    t.cancel("x");
    expect(b.signal.aborted).toBe(true);
    expect(t.isLatest("x", b.token)).toBe(false);
  });

  it("resolves out-of-order responses in favour of the newest", async () => {
    const t = new LatestTracker<number>();
    const applied: string[] = [];
    const request = (name: string, ms: number) => {
      const { token } = t.begin(1);
      return new Promise<void>((r) =>
        setTimeout(() => {
          if (t.isLatest(1, token)) applied.push(name);
          r();
        }, ms),
      );
    };
    await Promise.all([request("slow-old", 30), request("fast-new", 5)]);
    expect(applied).toEqual(["fast-new"]);
  });
});

describe("OneRequest", () => {
  it("lets the request on its way be when asked again, aborts it for another, and asks again once answered", () => {
    const r = new OneRequest();
    const a = r.ask("frame 6")!;
    expect(r.ask("frame 6")).toBeNull(); // progress came: the same matte is still on its way
    expect(a.signal.aborted).toBe(false);
    const b = r.ask("frame 7")!;
    expect(a.signal.aborted).toBe(true);
    expect(a.current()).toBe(false);
    expect(b.current()).toBe(true);
    a.end(); // a superseded answer ends nothing
    expect(r.ask("frame 7")).toBeNull();
    b.end(); // failed (not matted yet): asked again at the next progress
    const c = r.ask("frame 7")!;
    expect(c.current()).toBe(true);
    r.cancel();
    expect(c.signal.aborted).toBe(true);
    expect(c.current()).toBe(false);
    expect(r.ask("frame 7")).not.toBeNull();
  });
});
