import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, api, detailFromBody, isJob, urls } from "./api";
import { formatHash, parseHash } from "./components/App";
import { greyToAlpha, hexToRgb, viewSize } from "./compose";

describe("error messages", () => {
  it("uses the server's detail", () => {
    expect(detailFromBody({ detail: "Project abc not found" }, 404)).toBe("Project abc not found");
  });

  it("formats FastAPI validation errors", () => {
    const body = { detail: [{ loc: ["body", "start"], msg: "Input should be a valid integer", type: "int_parsing" }] };
    expect(detailFromBody(body, 422)).toBe("start: Input should be a valid integer");
  });

  it("explains a missing server and unknown bodies", () => {
    expect(detailFromBody(null, 0)).toMatch(/Cannot reach the server/);
    expect(detailFromBody(null, 502)).toMatch(/not answering/);
    expect(detailFromBody("<html>", 500, "Internal Server Error")).toBe("Request failed: 500 Internal Server Error");
  });
});

describe("client", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("throws ApiError with the detail on an error answer", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ detail: "End 500 is past the last frame 99" }), { status: 400 })),
    );
    const err = await api.createJob("p", { start: 0, end: 500, object_ids: [1] }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.message).toBe("End 500 is past the last frame 99");
  });

  it("sends points as JSON with PUT", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ object_id: 2, frame: 7, points: [] }), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    await api.putPoints("p 1", 2, 7, [{ x: 1.5, y: 2, label: "negative" }]);
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/projects/p%201/objects/2/frames/7/points");
    expect(init.method).toBe("PUT");
    expect(JSON.parse(String(init.body))).toEqual({ points: [{ x: 1.5, y: 2, label: "negative" }] });
  });

  it("builds relative URLs", () => {
    expect(urls.frame("p", 3, 640)).toBe("/api/projects/p/frames/3?max_side=640");
    expect(urls.frame("p", 3)).toBe("/api/projects/p/frames/3");
    expect(urls.archive("j", "formats=alpha_png")).toBe("/api/jobs/j/archive?formats=alpha_png");
  });

  it("recognises jobs", () => {
    expect(isJob({ id: "j", status: "done", start: 0, end: 1, frames_done: 2, frames_total: 2 })).toBe(true);
    expect(isJob({ id: "j", status: "done" })).toBe(false);
    expect(isJob(null)).toBe(false);
  });
});

describe("location hash", () => {
  it("round-trips project and frame", () => {
    expect(parseHash(formatHash("abc", 42))).toEqual({ pid: "abc", frame: 42 });
    expect(parseHash(formatHash("abc", 0))).toEqual({ pid: "abc", frame: 0 });
    expect(parseHash("")).toEqual({ pid: null, frame: 0 });
  });
});

describe("compositing helpers", () => {
  it("moves the grey matte into the alpha channel", () => {
    const src = new Uint8ClampedArray([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
    const out = greyToAlpha(src, new Uint8ClampedArray(12), [10, 20, 30]);
    expect([...out]).toEqual([10, 20, 30, 0, 10, 20, 30, 128, 10, 20, 30, 255]);
  });

  it("parses colours and sizes the side-by-side view", () => {
    expect(hexToRgb("#ff8000")).toEqual([255, 128, 0]);
    expect(hexToRgb("nope")).toEqual([0, 255, 0]);
    expect(viewSize("side", 100, 50)).toEqual({ width: 202, height: 50 });
    expect(viewSize("tint", 100, 50)).toEqual({ width: 100, height: 50 });
  });
});
