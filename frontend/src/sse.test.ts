import { afterEach, describe, expect, it, vi } from "vitest";
import type { Job } from "./api";
import { followJob, isResumable, isTerminal, parseProgressData, progressOf } from "./sse";
import { FakeEventSource } from "./test/eventSource";

const job = (over: Partial<Job> = {}): Job => ({
  id: "j1",
  project_id: "p1",
  status: "running",
  start: 10,
  end: 109,
  object_ids: [1],
  frames_done: 37,
  frames_total: 100,
  fps: 12.34,
  eta_seconds: 65,
  error: null,
  created_at: "2026-11-24T22:00:00Z",
  updated_at: "2026-11-24T22:00:05Z",
  ...over,
});

describe("progress events", () => {
  it("parses the data of a progress event", () => {
    expect(parseProgressData(JSON.stringify(job()))).toEqual(job());
  });

  it("rejects anything that is not a job", () => {
    expect(() => parseProgressData("not json")).toThrow(/not JSON/);
    expect(() => parseProgressData('{"id": "x"}')).toThrow(/does not describe a job/);
    expect(() => parseProgressData(JSON.stringify(job({ status: "weird" as Job["status"] })))).toThrow();
  });

  it("computes percent, frames, fps and ETA", () => {
    expect(progressOf(job())).toEqual({ percent: 37, frames: "37 / 100 frames", fps: "12 fps", eta: "1 min 5 s", note: null });
    expect(progressOf(job({ frames_done: 1, frames_total: 3, fps: 2.5, eta_seconds: 0.8 }))).toEqual({
      percent: 33.3,
      frames: "1 / 3 frames",
      fps: "2.5 fps",
      eta: "1 s",
      note: null,
    });
  });

  it("shows 100% when done and no ETA when not running", () => {
    expect(progressOf(job({ status: "done", frames_done: 100 })).percent).toBe(100);
    expect(progressOf(job({ status: "done", frames_done: 100 })).eta).toBe("done");
    expect(progressOf(job({ status: "queued", frames_done: 0, fps: null, eta_seconds: null }))).toEqual({
      percent: 0,
      frames: "0 / 100 frames",
      fps: "–",
      eta: "–",
      note: "starting…",
    });
    expect(progressOf(job({ status: "cancelled" })).eta).toBe("–");
  });

  it("says starting… from the moment a job exists until its first frame", () => {
    expect(progressOf(job({ status: "queued", frames_done: 0 })).note).toBe("starting…");
    expect(progressOf(job({ status: "running", frames_done: 0, fps: null, eta_seconds: null })).note).toBe("starting…");
    expect(progressOf(job({ status: "running", frames_done: 1 })).note).toBeNull();
    expect(progressOf(job({ status: "cancelled", frames_done: 0 })).note).toBeNull();
  });

  it("says connection lost instead of a live ETA while the server is away", () => {
    expect(progressOf(job(), false).note).toBe("connection lost");
    expect(progressOf(job({ status: "queued", frames_done: 0 }), false).note).toBe("connection lost");
    // a finished job's numbers stay true
    expect(progressOf(job({ status: "done", frames_done: 100 }), false)).toMatchObject({ note: null, eta: "done" });
  });

  it("never exceeds 100% and survives a zero total", () => {
    expect(progressOf(job({ frames_done: 120 })).percent).toBe(100);
    expect(progressOf(job({ frames_total: 0, frames_done: 0 })).percent).toBe(0);
  });

  it("knows terminal and resumable statuses", () => {
    expect(isTerminal("done")).toBe(true);
    expect(isTerminal("running")).toBe(false);
    expect(isTerminal("queued")).toBe(false);
    expect(isResumable("interrupted")).toBe(true);
    expect(isResumable("cancelled")).toBe(true);
    expect(isResumable("done")).toBe(false);
  });
});

describe("followJob", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("reports each progress event and closes on a terminal status", () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    const seen: Job[] = [];
    followJob("j1", (j) => seen.push(j), () => Promise.reject(new Error("no poll")));
    const es = FakeEventSource.last!;
    expect(es.url).toBe("/api/jobs/j1/events");
    es.emit(JSON.stringify(job({ frames_done: 10 })));
    es.emit(JSON.stringify(job({ frames_done: 100, status: "done" })));
    es.emit(JSON.stringify(job({ frames_done: 5 }))); // after the end: ignored
    expect(seen.map((j) => j.frames_done)).toEqual([10, 100]);
    expect(es.closed).toBe(true);
  });

  it("says when the job is deleted, and closes", () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    const seen: Job[] = [];
    const gone = vi.fn();
    followJob("j1", (j) => seen.push(j), () => Promise.reject(new Error("no poll")), undefined, gone);
    const es = FakeEventSource.last!;
    es.emit(JSON.stringify(job({ frames_done: 10 })));
    es.emit(JSON.stringify({ id: "j1" }), "deleted");
    es.onerror?.(); // the stream ends: no poll of a job that is gone
    expect(seen.map((j) => j.frames_done)).toEqual([10]);
    expect(gone).toHaveBeenCalledTimes(1);
    expect(es.closed).toBe(true);
  });

  it("reports malformed events and falls back to polling when the stream breaks", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    const errors: string[] = [];
    const seen: Job[] = [];
    const poll = vi.fn(async () => job({ status: "done", frames_done: 100 }));
    followJob("j1", (j) => seen.push(j), poll, (m) => errors.push(m));
    const es = FakeEventSource.last!;
    es.emit("garbage");
    expect(errors[0]).toMatch(/not JSON/);
    es.onerror?.();
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(poll).toHaveBeenCalledWith("j1");
    expect(es.closed).toBe(true);
  });

  it("says progress stopped without the job's internal id when polling keeps failing", async () => {
    vi.useFakeTimers();
    try {
      vi.stubGlobal("EventSource", undefined);
      const errors: string[] = [];
      const stop = followJob("j_4f9a2c", () => {}, () => Promise.reject(new Error("Cannot reach the server.")), (m) => errors.push(m));
      await vi.advanceTimersByTimeAsync(30_000);
      stop();
      expect(errors).toEqual(["Matting progress stopped updating: Cannot reach the server."]);
      expect(errors[0]).not.toContain("j_4f9a2c");
    } finally {
      vi.useRealTimers();
    }
  });
});
