import { createRoot } from "solid-js";
import { describe, expect, it } from "vitest";
import type { Track } from "../track";
import { createTrackState, type TrackApi } from "./track";

const base: Track = {
  project_id: "p",
  status: "running",
  start: 0,
  end: 9,
  object_ids: [1],
  mask_width: 96,
  mask_height: 64,
  run: { start: 0, end: 9, object_ids: [1] },
  frames_done: 0,
  frames_total: 10,
  fps: null,
  eta_seconds: null,
  error: null,
  stale: false,
  tracked: [],
  flags: [],
};

describe("track state", () => {
  it("follows a started track, shows masks of tracked frames, and a finished run's masks load anew", async () => {
    let push!: (t: Track) => void;
    const server: TrackApi = {
      get: async () => null,
      start: async () => base,
      cancel: async () => ({ ...base, status: "cancelled" }),
    };
    const state = createRoot(() =>
      createTrackState("p", () => {}, server, (_pid, onTrack) => {
        push = onTrack;
        return () => {};
      }),
    );
    await state.start(0, 9);
    expect(state.track()?.status).toBe("running");
    expect(state.overlay(3)).toBeNull();
    push({ ...base, frames_done: 4, tracked: [[0, 3]] });
    const during = state.overlay(3);
    expect(during).toMatch(/\/api\/projects\/p\/track\/masks\/3\?v=\d+$/);
    push({ ...base, status: "done", frames_done: 10, tracked: [[0, 9]] });
    expect(state.overlay(3)).not.toBe(during);
    expect(state.overlay(9)).not.toBeNull();
  });

  it("reports what the server refused", async () => {
    const reports: string[] = [];
    const server: TrackApi = {
      get: async () => null,
      start: () => Promise.reject(new Error("no points to track")),
      cancel: async () => base,
    };
    const state = createRoot(() => createTrackState("p", (e, title) => reports.push(`${title}: ${(e as Error).message}`), server));
    await state.start(0, 9);
    expect(reports).toEqual(["Could not start tracking: no points to track"]);
    await state.refresh();
    expect(state.track()).toBeNull();
  });
});
