import { afterEach, describe, expect, it, vi } from "vitest";
import { projectGone, tokenNeeded } from "./api";
import { FakeEventSource } from "./test/eventSource";
import { flagMarks, followTrack, hasMask, isTrack, trackApi, trackMaskUrl, trackProgressText, type Track } from "./track";

const done: Track = {
  project_id: "p_1",
  status: "done",
  start: 0,
  end: 11,
  object_ids: [1, 2],
  mask_width: 96,
  mask_height: 64,
  run: { start: 0, end: 11, object_ids: [1, 2] },
  frames_done: 12,
  frames_total: 12,
  fps: 20.5,
  eta_seconds: 0,
  error: null,
  stale: false,
  tracked: [[0, 11]],
  flags: [
    { frame: 7, object_id: 2, reason: "lost" },
    { frame: 3, object_id: 1, reason: "moved" },
    { frame: 7, object_id: 1, reason: "area jump" },
  ],
};

describe("track", () => {
  it("recognises a track and nothing else", () => {
    expect(isTrack(done)).toBe(true);
    expect(isTrack({ ...done, flags: undefined })).toBe(false);
    expect(isTrack({ ...done, tracked: undefined })).toBe(false);
    expect(isTrack({ id: "j_1", status: "done" })).toBe(false);
    expect(isTrack(null)).toBe(false);
  });

  it("marks each flagged frame once, in order, with every reason", () => {
    const names = new Map([
      [1, "Dancer"],
      [2, "Dog"],
    ]);
    expect(flagMarks(done, (oid) => names.get(oid) ?? "?")).toEqual([
      { frame: 3, why: "Dancer: moved" },
      { frame: 7, why: "Dog: lost, Dancer: area jump" },
    ]);
    expect(flagMarks(null, String)).toEqual([]);
  });

  it("shows a mask on the frames tracked so far", () => {
    expect(hasMask(done, 0) && hasMask(done, 11)).toBe(true);
    expect(hasMask(done, 12)).toBe(false);
    expect(hasMask(null, 3)).toBe(false);
    // Forward from frame 5, then backward: 5..8 so far.
    const running: Track = { ...done, status: "running", tracked: [[5, 8]] };
    expect([4, 5, 8, 9].map((f) => hasMask(running, f))).toEqual([false, true, true, false]);
  });

  it("describes progress and the end", () => {
    const running: Track = { ...done, status: "running", frames_done: 4, fps: 8.25, eta_seconds: 1 };
    expect(trackProgressText(running)).toMatch(/^4 \/ 12 frames · 8\.3 fps · .+ left$/);
    expect(trackProgressText(done)).toBe("tracked 0–11");
    expect(trackProgressText({ ...done, status: "cancelled", frames_done: 5 })).toBe("cancelled at 5 / 12 frames");
    expect(trackProgressText({ ...done, status: "failed", error: "boom" })).toBe("failed: boom");
    // A run the server's stop cut short: its reason and what to do, as the server says them.
    const why = "the server was shut down while this track ran: press Track to run it again";
    expect(trackProgressText({ ...done, status: "interrupted", frames_done: 5, error: why })).toBe(`interrupted: ${why}`);
    expect(trackProgressText({ ...done, status: "interrupted", frames_done: 5, error: null })).toBe("interrupted at 5 / 12 frames");
  });

  it("addresses a frame's overlay, new for each run", () => {
    expect(trackMaskUrl("p 1", 4, 2)).toBe("/api/projects/p%201/track/masks/4?v=2");
  });
});

describe("track requests", () => {
  afterEach(() => vi.unstubAllGlobals());
  const answer = (status: number, body: unknown) => vi.fn(async () => new Response(JSON.stringify(body), { status }));

  it("a Track pressed on a project deleted elsewhere shows it gone, as any other request does", async () => {
    vi.stubGlobal("fetch", answer(404, { detail: "project 'p_gone' does not exist" }));
    const err = (await trackApi.start("p_gone", 0, 9).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe("project 'p_gone' does not exist");
    expect(projectGone()).toBe("p_gone");
    expect(await trackApi.get("p_gone")).toBeNull(); // a read still finds no track
  });

  it("a Track the server refuses for want of the token asks for it, as any other request does", async () => {
    vi.stubGlobal("fetch", answer(401, { detail: "this server needs its access token" }));
    const err = (await trackApi.cancel("p_1").catch((e: unknown) => e)) as Error;
    expect(err.message).toBe("this server needs its access token");
    expect(tokenNeeded()).toBe(true);
  });
});

describe("followTrack", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  const answers = (...tracks: (Track | null)[]) =>
    vi.fn(async () => {
      const t = tracks.length > 1 ? tracks.shift()! : tracks[0];
      return t ? new Response(JSON.stringify(t), { status: 200 }) : new Response(JSON.stringify({ detail: "no track" }), { status: 404 });
    });

  it("keeps reading a track whose stream dropped until it stops running, then delivers its end", async () => {
    vi.useFakeTimers();
    vi.stubGlobal("EventSource", FakeEventSource);
    const running: Track = { ...done, status: "running", frames_done: 0, tracked: [] };
    const fetchMock = answers(running, running, done);
    vi.stubGlobal("fetch", fetchMock);
    const seen: (Track | null)[] = [];
    const errors: string[] = [];
    followTrack("p_1", (t) => seen.push(t), (m) => errors.push(m));
    const es = FakeEventSource.last!;
    expect(es.url).toBe("/api/projects/p_1/track/events");
    es.emit(JSON.stringify({ ...running, frames_done: 3 }));
    es.onerror?.(); // a proxy timeout: the server still runs the track
    expect(es.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(seen.map((t) => t?.status)).toEqual(["running", "running", "running", "done"]);
    expect(fetchMock).toHaveBeenCalledTimes(3); // no reads after the end
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe("/api/projects/p_1/track");
    expect(errors).toEqual([]);
  });

  it("stops reading when stopped, and ends when the track is gone", async () => {
    vi.useFakeTimers();
    vi.stubGlobal("EventSource", FakeEventSource);
    const running: Track = { ...done, status: "running" };
    const fetchMock = answers(running);
    vi.stubGlobal("fetch", fetchMock);
    const stop = followTrack("p_1", () => {}, () => {});
    FakeEventSource.last!.onerror?.();
    await vi.advanceTimersByTimeAsync(2_500);
    const reads = fetchMock.mock.calls.length;
    expect(reads).toBeGreaterThan(0);
    stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fetchMock).toHaveBeenCalledTimes(reads);

    const seen: (Track | null)[] = [];
    vi.stubGlobal("fetch", answers(null));
    followTrack("p_1", (t) => seen.push(t), () => {});
    FakeEventSource.last!.onerror?.();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(seen).toEqual([null]); // said once: the track (and maybe its project) is gone
  });

  it("ends when its stream says the project was deleted, and asks after the project", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ detail: "project 'p_1' does not exist" }), { status: 404 }));
    vi.stubGlobal("fetch", fetchMock);
    const seen: (Track | null)[] = [];
    followTrack("p_1", (t) => seen.push(t), () => {});
    const es = FakeEventSource.last!;
    es.emit(JSON.stringify({ ...done, status: "running" }));
    es.emit(JSON.stringify({ project_id: "p_1" }), "deleted");
    expect(seen.map((t) => t?.status ?? null)).toEqual(["running", null]);
    expect(es.closed).toBe(true);
    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe("/api/projects/p_1");
  });
});
