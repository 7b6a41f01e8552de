import { createRoot, createSignal } from "solid-js";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import { createPlayback, nextFrame, prepareStep } from "./playback";

describe("playback", () => {
  it("loops over the range", () => {
    expect(nextFrame(3, { start: 0, end: 9 })).toBe(4);
    expect(nextFrame(9, { start: 0, end: 9 })).toBe(0);
    expect(nextFrame(30, { start: 10, end: 20 })).toBe(10);
  });

  it("steps only after the next frame is loaded, and stops at once on pause", async () => {
    const shown: number[] = [];
    const prepared: number[] = [];
    let tick!: () => void;
    const s = createRoot(() => {
      const [frame, setFrame] = createSignal(8);
      const pb = createPlayback({
        frame,
        setFrame: (f) => {
          shown.push(f);
          setFrame(f);
        },
        range: () => ({ start: 5, end: 9 }),
        fps: () => 25,
        prepare: async (i) => void prepared.push(i),
        onError: () => {},
        sleep: () => new Promise<void>((r) => (tick = r)),
        now: () => 0,
      });
      return pb;
    });
    s.toggle();
    expect(s.playing()).toBe(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(prepared).toEqual([9]);
    expect(shown).toEqual([9]);
    tick();
    await new Promise((r) => setTimeout(r, 0));
    expect(shown).toEqual([9, 5]); // wrapped to the start of the range
    s.toggle();
    expect(s.playing()).toBe(false);
    tick();
    await new Promise((r) => setTimeout(r, 0));
    expect(shown).toEqual([9, 5]);
  });

  it("starts from the range's start when outside it, and a load error stops and reports", async () => {
    const errors: unknown[] = [];
    const s = createRoot(() => {
      const [frame, setFrame] = createSignal(30);
      const pb = createPlayback({
        frame,
        setFrame,
        range: () => ({ start: 10, end: 20 }),
        fps: () => 25,
        prepare: () => Promise.reject(new Error("frame 11 cannot be decoded")),
        onError: (e) => errors.push(e),
        sleep: async () => {},
      });
      return { pb, frame };
    });
    s.pb.toggle();
    expect(s.frame()).toBe(10);
    await new Promise((r) => setTimeout(r, 0));
    expect(s.pb.playing()).toBe(false);
    expect(String(errors[0])).toContain("cannot be decoded");
  });

  it("a seek while the next frame loads is kept: playback goes on from the frame sought", async () => {
    const loads: Array<() => void> = [];
    const prepared: number[] = [];
    let tick!: () => void;
    const s = createRoot(() => {
      const [frame, setFrame] = createSignal(3);
      const pb = createPlayback({
        frame,
        setFrame,
        range: () => ({ start: 0, end: 9 }),
        fps: () => 25,
        prepare: (i) => new Promise<void>((r) => (prepared.push(i), loads.push(r))),
        onError: () => {},
        sleep: () => new Promise<void>((r) => (tick = r)),
        now: () => 0,
      });
      return { pb, frame, setFrame };
    });
    s.pb.toggle();
    expect(prepared).toEqual([4]);
    s.setFrame(7); // the user clicks the seek bar while frame 4 loads
    loads[0]();
    await new Promise((r) => setTimeout(r, 0));
    expect(s.frame()).toBe(7);
    tick();
    await new Promise((r) => setTimeout(r, 0));
    expect(prepared).toEqual([4, 8]);
    loads[1]();
    await new Promise((r) => setTimeout(r, 0));
    expect(s.frame()).toBe(8);
    s.pb.stop();
  });

  it("plays on through a result's frames not matted yet (a running or stopped job): each shows without its matte", async () => {
    const notMatted = (i: number) => new ApiError(404, `frame ${i} of job 'j_4f9a2c0b1d3e' is not matted yet`);
    const errors: unknown[] = [];
    const s = createRoot(() => {
      const [frame, setFrame] = createSignal(3);
      const pb = createPlayback({
        frame,
        setFrame,
        range: () => ({ start: 3, end: 9 }),
        fps: () => 25,
        // The job matted frames 3 and 4 only.
        prepare: (i) => prepareStep(Promise.resolve(`frame ${i}`), i <= 4 ? Promise.resolve(`matte ${i}`) : Promise.reject(notMatted(i))),
        onError: (e) => errors.push(e),
        sleep: () => new Promise<void>((r) => setTimeout(r, 0)),
        now: () => 0,
      });
      return { pb, frame };
    });
    s.pb.toggle();
    for (let k = 0; k < 50 && s.frame() < 9; k++) await new Promise((r) => setTimeout(r, 0));
    expect(errors).toEqual([]);
    expect(s.frame()).toBe(9);
    expect(s.pb.playing()).toBe(true);
    s.pb.stop();
  });

  it("still stops for a frame that cannot be loaded, or a matte the server failed to make", async () => {
    await expect(prepareStep(Promise.reject(new ApiError(404, "frame 7 is not in the video")), null)).rejects.toThrow("frame 7 is not in the video");
    await expect(prepareStep(Promise.resolve("frame"), Promise.reject(new ApiError(500, "Internal Server Error")))).rejects.toThrow("Internal Server Error");
    await expect(prepareStep(Promise.resolve("frame"), Promise.reject(new ApiError(0, "The server cannot be reached")))).rejects.toThrow("cannot be reached");
    await expect(prepareStep(Promise.resolve("frame"), null)).resolves.toBeUndefined();
  });
});
