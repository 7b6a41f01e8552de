import { createRoot, createSignal } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Job, MatteObject } from "./api";
import { NO_EDGE } from "./exportChoice";
import { createResultCompose, objectAlphaUrl } from "./resultView";

describe("objectAlphaUrl", () => {
  it("asks for one object's matte at the stage's size, or full size", () => {
    expect(objectAlphaUrl("j1", 3, 2, 640)).toBe("/api/jobs/j1/alpha/3?max_side=640&object_id=2");
    expect(objectAlphaUrl("j1", 3, 2)).toBe("/api/jobs/j1/alpha/3?object_id=2");
  });

  it("asks for the matte with the edge adjustment chosen for the job's export", () => {
    expect(objectAlphaUrl("j1", 3, 2, 640, { ...NO_EDGE, shiftEdge: 2, feather: 0.5 })).toBe("/api/jobs/j1/alpha/3?max_side=640&shift_edge=2&feather=0.5&object_id=2");
    expect(objectAlphaUrl("j1", 3, 2, 0, NO_EDGE)).toBe("/api/jobs/j1/alpha/3?object_id=2");
    expect(objectAlphaUrl("j1", 3, 2, 0, { ...NO_EDGE, reduceChatter: true })).toBe("/api/jobs/j1/alpha/3?reduce_chatter=true&object_id=2");
  });
});

describe("the tint view of a running result", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("lets each object's matte on its way arrive, whatever progress comes meanwhile", () => {
    const asked: [string, AbortSignal][] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn((url: string, init: RequestInit) => (asked.push([url, init.signal!]), new Promise<Response>(() => {}))),
    );
    const objects: MatteObject[] = [
      { id: 1, project_id: "p", name: "Dancer", color: "#ff5a5f" },
      { id: 2, project_id: "p", name: "Dog", color: "#3ba4ff" },
    ];
    const running = (frames_done: number) =>
      ({ id: "j1", project_id: "p", status: "running", start: 0, end: 9, object_ids: [1, 2], frames_done, frames_total: 10 }) as Job;
    // Each progress event brings the job as a new object.
    const [job, setJob] = createSignal(running(3));
    const dispose = createRoot((d) => {
      createResultCompose({ job, frame: () => 1, objects: () => objects, mode: () => "tint", maxSide: () => 640 });
      return d;
    });
    setJob(running(4));
    setJob(running(5));
    expect(asked.map(([url, signal]) => [url, signal.aborted])).toEqual([
      ["/api/jobs/j1/alpha/1?max_side=640&object_id=1", false],
      ["/api/jobs/j1/alpha/1?max_side=640&object_id=2", false],
    ]);
    dispose();
  });
});
