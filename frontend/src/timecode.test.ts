import { describe, expect, it } from "vitest";
import { clampFrame, formatDuration, formatEta, formatTimecode, frameTime, sourceTimecode } from "./timecode";

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
