import { createRoot, createSignal } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Job, MatteObject } from "./api";
import { NO_EDGE } from "./exportChoice";
import { ImageCache } from "./images";
import { createResultCompose, objectAlphaUrl, type ResultCompose } from "./resultView";

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

  const objects: MatteObject[] = [
    { id: 1, project_id: "p", name: "Dancer", color: "#ff5a5f" },
    { id: 2, project_id: "p", name: "Dog", color: "#3ba4ff" },
  ];
  const jobAt = (status: Job["status"], frames_done: number) =>
    ({ id: "j1", project_id: "p", status, start: 0, end: 9, object_ids: [1, 2], frames_done, frames_total: 10 }) as Job;
  const cache = () => new ImageCache({ maxBytes: 1e9, decode: async (b) => ({ naturalWidth: 4, naturalHeight: 4, src: await b.text() }) as HTMLImageElement, release: () => {} });
  const settle = () => new Promise((r) => setTimeout(r, 0));
  const shownOver = (compose: ResultCompose, index: number) => compose.options(index).layers?.map((l) => [(l.alpha as HTMLImageElement).src, l.color]);

  it("shows a frame's own mattes over that frame only, and playback's load stands for the step's", async () => {
    const asked: string[] = [];
    const held = new Map<string, () => void>();
    vi.stubGlobal(
      "fetch",
      vi.fn((url: string) => {
        asked.push(url);
        const answer = () => new Response(url.replace(/^.*alpha\/(\d+)\?object_id=(\d)$/, "frame $1 object $2"));
        // Frame 2's mattes come when the test says.
        return url.includes("/alpha/2?") ? new Promise<Response>((r) => held.set(url, () => r(answer()))) : Promise.resolve(answer());
      }),
    );
    const [frame, setFrame] = createSignal(1);
    const { compose, dispose } = createRoot((dispose) => ({
      compose: createResultCompose({ job: () => jobAt("done", 10), frame, objects: () => objects, mode: () => "tint", images: cache() }),
      dispose,
    }));
    await settle();
    expect(shownOver(compose, 1)).toEqual([
      ["frame 1 object 1", "#ff5a5f"],
      ["frame 1 object 2", "#3ba4ff"],
    ]);
    setFrame(2);
    await settle();
    expect(shownOver(compose, 2)).toBeUndefined(); // not frame 1's over frame 2: the union meanwhile
    expect(shownOver(compose, 1)?.[0][0]).toBe("frame 1 object 1"); // frame 1's picture still stands in: with its own
    for (const release of held.values()) release();
    await settle();
    expect(shownOver(compose, 2)?.[1]).toEqual(["frame 2 object 2", "#3ba4ff"]);
    await compose.load(3); // playback loads the next step first
    setFrame(3);
    expect(shownOver(compose, 3)?.[0][0]).toBe("frame 3 object 1"); // at once, as the step is drawn
    expect(asked.filter((u) => u.includes("/alpha/3?"))).toHaveLength(2);
    dispose();
  });

  it("asks a frame not matted yet once per object: playback's 404 stands for the step's, until the job moves on", async () => {
    const asked: string[] = [];
    let done = 3;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        asked.push(url);
        const i = Number(/alpha\/(\d+)/.exec(url)![1]);
        if (i >= done) return new Response(JSON.stringify({ detail: `frame ${i} of job 'j_4f9a2c0b1d3e' is not matted yet` }), { status: 404 });
        return new Response(`frame ${i}`);
      }),
    );
    const [frame, setFrame] = createSignal(2);
    const [job, setJob] = createSignal(jobAt("running", done));
    const { compose, dispose } = createRoot((dispose) => ({
      compose: createResultCompose({ job, frame, objects: () => objects, mode: () => "tint", images: cache() }),
      dispose,
    }));
    await settle();
    await compose.load(3); // never rejects: the union stands in
    setFrame(3);
    await settle();
    expect(asked.filter((u) => u.includes("/alpha/3?"))).toHaveLength(2);
    expect(shownOver(compose, 3)).toBeUndefined();
    done = 4;
    setJob(jobAt("running", done)); // frame 3 is matted now
    await settle();
    await settle();
    expect(asked.filter((u) => u.includes("/alpha/3?"))).toHaveLength(4);
    expect(shownOver(compose, 3)?.[0][0]).toBe("frame 3");
    dispose();
  });

  it("asks an old job that kept only the union for its objects' mattes on one frame, then shows the union", async () => {
    const asked: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        asked.push(url);
        return new Response(JSON.stringify({ detail: "job 'j1' stored only the union of its objects' mattes" }), { status: 404 });
      }),
    );
    const [frame, setFrame] = createSignal(1);
    const { compose, dispose } = createRoot((dispose) => ({
      compose: createResultCompose({ job: () => jobAt("done", 10), frame, objects: () => objects, mode: () => "tint", images: cache() }),
      dispose,
    }));
    await settle();
    expect(asked).toHaveLength(2); // frame 1, each object
    setFrame(2);
    await settle();
    await compose.load(3); // playback's next step
    setFrame(3);
    await settle();
    expect(asked).toHaveLength(2);
    expect(shownOver(compose, 3)).toBeUndefined(); // the union, in one colour
    expect(compose.options(3).tint).toBe("#ff5a5f");
    dispose();
  });
});
