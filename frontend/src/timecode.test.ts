import { describe, expect, it } from "vitest";
import { clampFrame, formatDuration, formatEta, formatTimecode, frameTime, parseGoto, sourceTimecode } from "./timecode";

describe("timecode", () => {
  it("formats HH:MM:SS:FF at integer rates", () => {
    expect(formatTimecode(0, 25)).toBe("00:00:00:00");
    expect(formatTimecode(24, 25)).toBe("00:00:00:24");
    expect(formatTimecode(25, 25)).toBe("00:00:01:00");
    expect(formatTimecode(30 * 61 + 7, 30)).toBe("00:01:01:07");
    expect(formatTimecode(24 * 3600 + 1, 24)).toBe("01:00:00:01");
  });

  it("handles fractional rates without drifting past the second", () => {
    const fps = 30000 / 1001;
    expect(formatTimecode(29, fps)).toBe("00:00:00:29");
    expect(formatTimecode(30, fps)).toBe("00:00:01:00");
    expect(formatTimecode(1798, fps)).toBe("00:00:59:29");
    expect(formatTimecode(1800, fps)).toBe("00:01:00:01");
    for (let i = 0; i < 2000; i += 7) expect(Number(formatTimecode(i, fps).slice(-2))).toBeLessThan(30);
  });

  it("is safe with bad input", () => {
    expect(formatTimecode(5, 0)).toBe("00:00:00:00");
    expect(formatTimecode(-3, 25)).toBe("00:00:00:00");
  });

  it("gives frame times", () => {
    expect(frameTime(50, 25)).toBe(2);
    expect(frameTime(5, 0)).toBe(0);
  });
});

describe("durations", () => {
  it("formats durations and ETAs", () => {
    expect(formatDuration(4.24)).toBe("4.2 s");
    expect(formatDuration(65)).toBe("1:05");
    expect(formatDuration(3723)).toBe("1:02:03");
    expect(formatDuration(NaN)).toBe("–");
    expect(formatEta(12.4)).toBe("12 s");
    expect(formatEta(185)).toBe("3 min 5 s");
    expect(formatEta(3720)).toBe("1 h 2 min");
    expect(formatEta(null)).toBe("–");
  });

  it("clamps frames into the video", () => {
    expect(clampFrame(-5, 10)).toBe(0);
    expect(clampFrame(15, 10)).toBe(9);
    expect(clampFrame(3.6, 10)).toBe(4);
    expect(clampFrame(3, 0)).toBe(0);
  });
});

describe("source timecode", () => {
  it("counts from the source's start label at the nominal rate", () => {
    expect(sourceTimecode("01:00:00:00", 0, 25)).toBe("01:00:00:00");
    expect(sourceTimecode("01:00:00:00", 25, 25)).toBe("01:00:01:00");
    expect(sourceTimecode("00:59:59:23", 1, 23.976)).toBe("01:00:00:00");
    expect(sourceTimecode("23:59:59:24", 1, 25)).toBe("00:00:00:00"); // a day wraps
  });

  it("skips the labels drop-frame skips, as the exports stamp them", () => {
    expect(sourceTimecode("00:00:59;29", 1, 29.97)).toBe("00:01:00;02");
    expect(sourceTimecode("00:09:59;29", 1, 29.97)).toBe("00:10:00;00"); // every tenth minute keeps them
    expect(sourceTimecode("00:00:59;26", 3, 30000 / 1001)).toBe("00:00:59;29");
    expect(sourceTimecode("00:00:59;26", 4, 30000 / 1001)).toBe("00:01:00;02");
    expect(sourceTimecode("00:00:59;59", 1, 59.94)).toBe("00:01:00;04");
    expect(sourceTimecode("00:00:00;00", 17982, 29.97)).toBe("00:10:00;00"); // 10 minutes of labels
    expect(sourceTimecode("00:00:00;00", 1800, 29.97)).toBe("00:01:00;02");
  });

  it("gives every frame its own label, in order", () => {
    const seen = new Set<string>();
    let before = "";
    for (let i = 0; i < 40000; i += 7) {
      const label = sourceTimecode("00:00:00;00", i, 29.97)!;
      expect(label > before).toBe(true);
      seen.add(label);
      before = label;
    }
    expect(seen.size).toBe(Math.ceil(40000 / 7));
  });

  it("is null for what is not a label at the rate", () => {
    expect(sourceTimecode("1:00:00:00", 0, 25)).toBeNull();
    expect(sourceTimecode("01:00:00:25", 0, 25)).toBeNull();
    expect(sourceTimecode("01:00:00;00", 0, 25)).toBeNull(); // drop-frame is for 29.97 / 59.94
  });
});

describe("go to", () => {
  const at = (frame: number, frameCount: number, fps: number, timecode?: string) => ({ frame, frameCount, fps, timecode });

  it("takes frame numbers and offsets from the shown frame", () => {
    expect(parseGoto("120", at(0, 300, 30))).toEqual({ frame: 120 });
    expect(parseGoto(" 0 ", at(5, 300, 30))).toEqual({ frame: 0 });
    expect(parseGoto("+10", at(100, 300, 30))).toEqual({ frame: 110 });
    expect(parseGoto("-10", at(100, 300, 30))).toEqual({ frame: 90 });
  });

  it("takes an image sequence's own numbers after #, as the readout shows them", () => {
    const plates = { frame: 0, frameCount: 50, fps: 24, firstNumber: 1001 };
    expect(parseGoto("#1021", plates)).toEqual({ frame: 20 });
    expect(parseGoto(" #1001 ", plates)).toEqual({ frame: 0 });
    expect(parseGoto("#1000", plates)).toEqual({ error: "#1000 is before the first image, #1001" });
    expect(parseGoto("#1051", plates)).toEqual({ error: "#1051 is past the last image, #1050" });
    expect(parseGoto("#12", at(0, 300, 30))).toEqual({ error: "only an image sequence's frames have numbers of their own (#); type 12 for frame 12" });
  });

  it("refuses frames outside the video and text it cannot read, saying why", () => {
    expect(parseGoto("900", at(0, 300, 30))).toEqual({ error: "frame 900 is past the last frame, 299" });
    expect(parseGoto("-10", at(4, 300, 30))).toEqual({ error: "frame -6 is before the first frame, 0" });
    expect(parseGoto("+10", at(295, 300, 30))).toEqual({ error: "frame 305 is past the last frame, 299" });
    for (const bad of ["", "abc", "1.5", "1::2", "1:2:3:4:5", "123:00", "+1:00"])
      expect(parseGoto(bad, at(0, 300, 30))).toEqual({ error: "type a frame number, a timecode hh:mm:ss:ff or +/- frames" });
  });

  it("fills timecode fields from the right, as Premiere does", () => {
    expect(parseGoto("1:00", at(0, 9000, 30))).toEqual({ frame: 30 });
    expect(parseGoto("1:02:03", at(0, 9000, 30))).toEqual({ frame: (62 * 30) + 3 });
    expect(parseGoto("0:0:4:5", at(0, 9000, 30))).toEqual({ frame: 125 });
    expect(parseGoto("00:00:04;05", at(0, 9000, 30))).toEqual({ frame: 125 });
  });

  it("refuses fields out of range and labels no frame has", () => {
    expect(parseGoto("01:00:00:30", at(0, 9000, 30))).toEqual({ error: "01:00:00:30 — frames run 00–29 at 30 fps" });
    expect(parseGoto("00:00:61:00", at(0, 9000, 30))).toEqual({ error: "00:00:61:00 — seconds run 00–59" });
    expect(parseGoto("00:60:00:00", at(0, 9000, 30))).toEqual({ error: "00:60:00:00 — minutes run 00–59" });
    expect(parseGoto("24:00:00:00", at(0, 9000, 30))).toEqual({ error: "24:00:00:00 — hours run 00–23" });
    expect(parseGoto("00:00:20:00", at(0, 300, 30))).toEqual({ error: "00:00:20:00 is outside the video, 00:00:00:00–00:00:09:29" });
    // 23.976 fps: some seconds hold 23 frames, not 24.
    const fps = 24000 / 1001;
    const short = Array.from({ length: 100 }, (_, s) => s).find((s) => Math.ceil((s + 1) * fps - 1e-6) - Math.ceil(s * fps - 1e-6) === 23)!;
    expect(parseGoto(`00:00:${pad2(short)}:23`, at(0, 9000, fps))).toEqual({ error: `00:00:${pad2(short)}:23 — that second has no frame 23 at 23.976 fps` });
  });

  it("reads the source's labels when the video has a start timecode", () => {
    expect(parseGoto("01:00:01:00", at(0, 300, 25, "01:00:00:00"))).toEqual({ frame: 25 });
    expect(parseGoto("1:00", at(0, 300, 25, "01:00:00:00"))).toEqual({ error: "00:00:01:00 is outside the video, 01:00:00:00–01:00:11:24" });
    expect(parseGoto("00:01:00;02", at(0, 300, 30000 / 1001, "00:00:59;28"))).toEqual({ frame: 2 });
    expect(parseGoto("00:01:00:02", at(0, 300, 30000 / 1001, "00:00:59;28"))).toEqual({ frame: 2 }); // either separator
    expect(parseGoto("00:01:00;01", at(0, 300, 30000 / 1001, "00:00:59;28"))).toEqual({
      error: "00:01:00;01 — drop-frame skips frames ;00–;01 of each minute but every tenth",
    });
    expect(parseGoto("00:00:00:00", at(0, 300, 25, "23:59:59:00"))).toEqual({ frame: 25 }); // across midnight
  });

  it("goes back to the frame each readout label names, at every common rate", () => {
    const rates: [number, string | undefined][] = [
      [24000 / 1001, undefined],
      [24, undefined],
      [25, undefined],
      [30000 / 1001, undefined],
      [30, undefined],
      [50, undefined],
      [60000 / 1001, undefined],
      [24000 / 1001, "01:00:00:00"],
      [24, "01:00:00:00"],
      [25, "01:00:00:00"],
      [30000 / 1001, "00:59:59;28"],
      [30000 / 1001, "00:00:00;00"],
      [30, "01:00:00:00"],
      [50, "01:00:00:00"],
      [60000 / 1001, "00:59:59;56"],
      [60000 / 1001, "01:00:00;00"],
    ];
    const frameCount = 40000; // past 10 minutes at 59.94: drop-frame's tenth minute and others
    const wrong: string[] = [];
    for (const [fps, timecode] of rates) {
      for (let i = 0; i < frameCount; i += 1 + (i % 13)) {
        const label = timecode ? sourceTimecode(timecode, i, fps)! : formatTimecode(i, fps);
        const to = parseGoto(label, at(0, frameCount, fps, timecode));
        if (!("frame" in to) || to.frame !== i) wrong.push(`${label} at ${fps} from ${timecode}: ${JSON.stringify(to)}, not ${i}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

const pad2 = (n: number) => String(n).padStart(2, "0");
