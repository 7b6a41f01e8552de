import { createRoot } from "solid-js";
import { beforeEach, describe, expect, it } from "vitest";
import { clampInOut, createInOut, inoutText, mattingRange, NO_INOUT, playRange, readInOut, setIn, setOut, trackRange, workRange } from "./inout";

beforeEach(() => localStorage.clear());

describe("In/Out work range", () => {
  it("In after the Out clears the Out; Out before the In clears the In (as Premiere does)", () => {
    const r = setOut(setIn(NO_INOUT, 12), 80);
    expect(r).toEqual({ in: 12, out: 80 });
    expect(setIn(r, 90)).toEqual({ in: 90, out: null });
    expect(setOut(r, 5)).toEqual({ in: null, out: 5 });
    expect(setIn(r, 80)).toEqual({ in: 80, out: 80 }); // one frame
    expect(setOut(r, 40)).toEqual({ in: 12, out: 40 });
  });

  it("a stored range is clamped to the video's frames: frames it lacks, or an Out before the In, are dropped", () => {
    expect(clampInOut({ in: 3, out: 9 }, 10)).toEqual({ in: 3, out: 9 });
    expect(clampInOut({ in: 3, out: 10 }, 10)).toEqual({ in: 3, out: null });
    expect(clampInOut({ in: -1, out: 4 }, 10)).toEqual({ in: null, out: 4 });
    expect(clampInOut({ in: 2.5, out: "4" }, 10)).toEqual(NO_INOUT);
    expect(clampInOut({ in: 7, out: 4 }, 10)).toEqual(NO_INOUT);
    expect(clampInOut(null, 10)).toEqual(NO_INOUT);
    localStorage.setItem("vidmatte.inout.p", "{not json");
    expect(readInOut(localStorage, "p", 10)).toEqual(NO_INOUT);
  });

  it("Track runs over In..Out, a lone In to the end, a lone Out from 0, else the whole clip", () => {
    expect(trackRange({ in: 12, out: 80 }, 100)).toEqual({ start: 12, end: 80 });
    expect(trackRange({ in: 12, out: null }, 100)).toEqual({ start: 12, end: 99 });
    expect(trackRange({ in: null, out: 80 }, 100)).toEqual({ start: 0, end: 80 });
    expect(trackRange(NO_INOUT, 100)).toEqual({ start: 0, end: 99 });
    expect(workRange(NO_INOUT, 100)).toBeNull();
  });

  it("Matting starts from In..Out when any is set, else from the prompted range, else the clip", () => {
    const prompted = { start: 0, end: 27 };
    expect(mattingRange({ in: 20, out: 30 }, 36, prompted)).toEqual({ start: 20, end: 30 });
    expect(mattingRange({ in: null, out: 30 }, 36, prompted)).toEqual({ start: 0, end: 30 });
    expect(mattingRange(NO_INOUT, 36, prompted)).toEqual(prompted);
    expect(mattingRange(NO_INOUT, 36, null)).toEqual({ start: 0, end: 35 });
  });

  it("playback loops over In..Out when set, else over the viewed result's range, else the clip", () => {
    const result = { start: 10, end: 20 };
    expect(playRange({ in: 2, out: 8 }, 36, result)).toEqual({ start: 2, end: 8 });
    expect(playRange({ in: 30, out: null }, 36, undefined)).toEqual({ start: 30, end: 35 });
    expect(playRange(NO_INOUT, 36, result)).toEqual(result);
    expect(playRange(NO_INOUT, 36, undefined)).toEqual({ start: 0, end: 35 });
  });

  it("reads out the range, or the edge that is set", () => {
    expect(inoutText({ in: 12, out: 80 })).toBe("In 12 – Out 80 (69 frames)");
    expect(inoutText({ in: 4, out: 4 })).toBe("In 4 – Out 4 (1 frame)");
    expect(inoutText({ in: 12, out: null })).toBe("In 12");
    expect(inoutText({ in: null, out: 80 })).toBe("Out 80");
    expect(inoutText(NO_INOUT)).toBeNull();
  });

  it("is kept per project in localStorage, read back clamped, and announced", () => {
    createRoot((dispose) => {
      const a = createInOut("a", () => 100);
      a.setIn(12);
      a.setOut(80);
      expect(a.said()).toBe("Out set at frame 80");
      expect(JSON.parse(localStorage.getItem("vidmatte.inout.a")!)).toEqual({ in: 12, out: 80 });
      expect(createInOut("a", () => 100).range()).toEqual({ in: 12, out: 80 });
      expect(createInOut("a", () => 50).range()).toEqual({ in: 12, out: null }); // a shorter video
      expect(createInOut("b", () => 100).range()).toEqual(NO_INOUT);
      a.setIn(90);
      expect(a.said()).toBe("In set at frame 90; Out cleared (it was before In)");
      expect(workRange(a.range(), 100)).toEqual({ start: 90, end: 99 });
      a.clear();
      expect(a.said()).toBe("In and Out cleared");
      expect(localStorage.getItem("vidmatte.inout.a")).toBeNull();
      dispose();
    });
  });
});
