import { describe, expect, it } from "vitest";
import { clampFrame, formatDuration, formatEta, formatTimecode, frameTime } from "./timecode";

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
