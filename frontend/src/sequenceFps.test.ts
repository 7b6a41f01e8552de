// The frame rate of an image sequence: what may be typed, what is sent for it, what is remembered.
import { afterEach, describe, expect, it } from "vitest";
import { uploadForm } from "./api";
import { FPS_PRESETS, STATED, askSequenceFps, isImageSequence, lastSequenceFps, parseFps, pendingFps } from "./sequenceFps";

afterEach(() => localStorage.clear());

describe("sequence frame rate", () => {
  it("offers the common rates, sent as written", () => {
    expect(FPS_PRESETS.map((p) => p.label)).toEqual(["23.976", "24", "25", "29.97", "30", "48", "50", "59.94", "60"]);
    const sent = (label: string) => uploadForm(new File(["x"], "s.zip"), { fps: FPS_PRESETS.find((p) => p.label === label)!.fps }).get("fps") as string;
    // The server takes these as the NTSC rates n·1000/1001 (e2e/sequence.spec.ts checks it).
    expect(sent("23.976")).toBe("23.976");
    expect(sent("29.97")).toBe("29.97");
    expect(sent("59.94")).toBe("59.94");
    expect(sent("25")).toBe("25");
  });

  it("takes a typed rate from 1 to 240, and says what is wrong otherwise", () => {
    expect(parseFps(" 25 ")).toEqual({ fps: 25 });
    expect(parseFps("12.5")).toEqual({ fps: 12.5 });
    expect(parseFps("1")).toEqual({ fps: 1 });
    expect(parseFps("240")).toEqual({ fps: 240 });
    expect(parseFps("29.970")).toEqual({ fps: 29.97 });
    const error = { error: "Enter a frame rate from 1 to 240 fps, e.g. 25 or 23.976." };
    for (const bad of ["", "0", "0.5", "240.01", "300", "abc", "-24", "1e2", "25 fps", "Infinity", "2,5"]) expect(parseFps(bad), bad).toEqual(error);
  });

  it("sends fps only when given, with the file and the name", () => {
    const zip = new File(["x"], "shot.zip", { type: "application/zip" });
    const withFps = uploadForm(zip, { fps: 25 });
    expect([...withFps.keys()]).toEqual(["file", "fps"]);
    expect(withFps.get("fps")).toBe("25");
    expect((withFps.get("file") as File).name).toBe("shot.zip");
    expect([...uploadForm(new File(["x"], "clip.mp4"), { name: "take" }).keys()]).toEqual(["file", "name"]);
  });

  it("knows a zip by its name or type", () => {
    expect(isImageSequence(new File([], "SHOT.ZIP"))).toBe(true);
    expect(isImageSequence(new File([], "plates", { type: "application/x-zip-compressed" }))).toBe(true);
    expect(isImageSequence(new File([], "clip.mp4", { type: "video/mp4" }))).toBe(false);
    expect(isImageSequence(new File([], "zip.mov"))).toBe(false);
  });

  it("remembers the rate chosen, not a cancel; the images' own before any", async () => {
    expect(lastSequenceFps()).toBe(STATED);
    const chosen = askSequenceFps("a.zip");
    expect(pendingFps()?.initial).toBe(STATED);
    pendingFps()!.resolve(25);
    expect(await chosen).toBe(25);
    expect(pendingFps()).toBeNull();
    const cancelled = askSequenceFps("b.zip");
    expect(pendingFps()?.initial).toBe(25);
    pendingFps()!.resolve(null);
    expect(await cancelled).toBeNull();
    expect(lastSequenceFps()).toBe(25);
    const stated = askSequenceFps("c.zip");
    pendingFps()!.resolve(STATED);
    expect(await stated).toBe(STATED);
    expect(lastSequenceFps()).toBe(STATED);
    localStorage.setItem("vidmatte.sequenceFps", "9000"); // out of range: not used
    expect(lastSequenceFps()).toBe(STATED);
  });
});
