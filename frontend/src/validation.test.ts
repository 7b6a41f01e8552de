import { describe, expect, it } from "vitest";
import { projectMeta } from "./components/ProjectItem";
import { fromFramePoints } from "./points";
import { archiveQuery, normaliseHexColor, validateJobDraft, validateRange } from "./validation";

const pts = fromFramePoints([
  { object_id: 1, frame: 10, points: [{ x: 1, y: 1, label: "positive" }] },
  { object_id: 2, frame: 50, points: [{ x: 1, y: 1, label: "positive" }] },
]);

describe("validateRange", () => {
  it("accepts a range holding a prompted frame of a chosen object", () => {
    expect(validateRange(0, 20, 100, [1], pts)).toBeNull();
    expect(validateRange(10, 10, 100, [1], pts)).toBeNull();
    expect(validateRange(40, 99, 100, [1, 2], pts)).toBeNull();
  });

  it("requires the end inside the video", () => {
    expect(validateRange(0, 100, 100, [1], pts)).toMatch(/End must be inside the video: the last frame is 99/);
  });

  it("requires start ≤ end and whole, non-negative numbers", () => {
    expect(validateRange(30, 20, 100, [1], pts)).toMatch(/must not be after end/);
    expect(validateRange(-1, 20, 100, [1], pts)).toMatch(/0 or later/);
    expect(validateRange(1.5, 20, 100, [1], pts)).toMatch(/whole frame numbers/);
    expect(validateRange(NaN, 20, 100, [1], pts)).toMatch(/whole frame numbers/);
  });

  it("requires points of a chosen object inside the range", () => {
    expect(validateRange(0, 20, 100, [2], pts)).toMatch(/No frame from 0 to 20 holds points.*nearest prompted frame: 50/);
    expect(validateRange(11, 49, 100, [1, 2], pts)).toMatch(/No frame from 11 to 49/);
    expect(validateRange(0, 20, 100, [], pts)).toMatch(/at least one object/);
    expect(validateRange(0, 20, 100, [3], pts)).toMatch(/no points yet/);
    // Nothing clicked anywhere: there is no object to choose, so say what to do first.
    expect(validateRange(0, 20, 100, [], fromFramePoints([]))).toBe("No object has points yet: click on the object in the frame first.");
  });
});

describe("validateJobDraft", () => {
  const ok = { start: 0, end: 20, objectIds: [1], formats: ["alpha_png"], background: "00ff00" };
  it("passes a good draft", () => expect(validateJobDraft(ok, 100, pts)).toBeNull());
  it("needs a format", () => expect(validateJobDraft({ ...ok, formats: [] }, 100, pts)).toMatch(/output format/));
  it("rejects unknown formats", () => expect(validateJobDraft({ ...ok, formats: ["gif"] }, 100, pts)).toMatch(/Unknown output format: gif/));
  it("checks the background for composites", () => {
    expect(validateJobDraft({ ...ok, formats: ["composite_mp4"], background: "green" }, 100, pts)).toMatch(/six hex digits/);
    expect(validateJobDraft({ ...ok, formats: ["composite_mp4"], background: "#00FF00" }, 100, pts)).toBeNull();
  });
});

describe("archive query", () => {
  it("joins formats and normalises the background", () => {
    expect(archiveQuery(["alpha_png", "prores4444"], "#00FF00")).toBe("formats=alpha_png%2Cprores4444&background=00ff00");
    expect(archiveQuery([], "bad")).toBe("formats=alpha_png");
    expect(archiveQuery(["exr"], "00ff00", { rawColour: true, mattes: "both" })).toBe(
      "formats=exr&background=00ff00&fg=raw&mattes=both",
    );
    expect(archiveQuery(["rgba_png"], "00ff00", { rawColour: false, mattes: "objects" })).toBe(
      "formats=rgba_png&background=00ff00",
    );
    // the edge adjustment only when there is one: a URL without it is the stored matte
    expect(archiveQuery(["exr"], "00ff00", { shiftEdge: 0, feather: 0 })).toBe("formats=exr&background=00ff00");
    expect(archiveQuery(["exr"], "00ff00", { mattes: "union", shiftEdge: 2, feather: 1.5 })).toBe(
      "formats=exr&background=00ff00&mattes=union&shift_edge=2&feather=1.5",
    );
    expect(archiveQuery(["exr"], "00ff00", { shiftEdge: -0.5 })).toBe("formats=exr&background=00ff00&shift_edge=-0.5");
    expect(archiveQuery(["exr"], "00ff00", { reduceChatter: false })).toBe("formats=exr&background=00ff00");
    expect(archiveQuery(["exr"], "00ff00", { shiftEdge: 1, reduceChatter: true })).toBe("formats=exr&background=00ff00&shift_edge=1&reduce_chatter=true");
    expect(archiveQuery(["exr"], "00ff00", { part: { start: 3, end: 5 } })).toBe("formats=exr&background=00ff00&start=3&end=5");
    expect(archiveQuery(["exr"], "00ff00", { part: null })).toBe("formats=exr&background=00ff00");
    expect(normaliseHexColor(" 123abc ")).toBe("123abc");
    expect(normaliseHexColor("12345")).toBeNull();
  });
});


describe("small helpers", () => {
  it("describes a project's picture and length on two lines", () => {
    const video = { width: 1920, height: 1080, fps: 29.97, frame_count: 300, duration: 10.01, rotation: 0, codec: "h264", has_audio: true, pixel_aspect: 1 };
    expect(projectMeta({ id: "p", name: "n", filename: "f", created_at: "", video, has_track: false })).toEqual(["1920×1080 · 29.97 fps", "300 frames · 0:10"]);
    // Anamorphic: the stored size (what points are in) and the size it shows at.
    const dv = { ...video, width: 720, height: 480, pixel_aspect: 32 / 27 };
    expect(projectMeta({ id: "p", name: "n", filename: "f", created_at: "", video: dv, has_track: false })[0]).toBe("720×480 (shown 853×480) · 29.97 fps");
  });
});
