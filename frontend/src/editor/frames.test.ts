import { createRoot, createSignal } from "solid-js";
import { describe, expect, it } from "vitest";
import { ApiError, type Job } from "../api";
import { NO_EDGE, type EdgeAdjust } from "../exportChoice";
import { ImageCache } from "../images";
import { createFrameImage, createMatteImage, type FrameDeps } from "./frames";

const picture = (src: string) => ({ naturalWidth: 10, naturalHeight: 10, src }) as HTMLImageElement;
const settle = () => new Promise((r) => setTimeout(r, 0));

/** A fake server whose answers the test releases by hand. */
function server() {
  const requests: { what: string; maxSide: number; signal: AbortSignal; resolve: () => void }[] = [];
  const fetch = (what: string, maxSide: number, signal: AbortSignal) =>
    new Promise<Blob>((resolve, reject) => {
      requests.push({ what, maxSide, signal, resolve: () => resolve(new Blob([what])) });
      signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
  return { requests, fetch };
}

const video = { width: 1920, height: 1080, frame_count: 50 };
const cache = () => new ImageCache({ maxBytes: 1e9, decode: async (b) => picture(await b.text()), release: () => {} });

/** A frame image of `video` on a 600×400 stage, in its own root, with the frame and the
 * connection as signals the test moves; `deps` replaces any of its defaults. */
function frameImage(deps: Partial<FrameDeps> & Pick<FrameDeps, "fetchFrame">) {
  return createRoot(() => {
    const [frame, setFrame] = createSignal(0);
    const [online, setOnline] = createSignal(true);
    const img = createFrameImage({
      video: () => video,
      frame,
      stageSize: () => ({ width: 600, height: 400 }),
      playing: () => true, // no prefetch: only the frames asked for
      online,
      images: cache(),
      report: () => {},
      ...deps,
    });
    return { img, setFrame, setOnline };
  });
}

describe("frame image", () => {
  it("asks for a sharper frame when zoomed, up to the video's own size, and keeps showing the frame meanwhile", async () => {
    const srv = server();
    const [zoom, setZoom] = createSignal(1);
    const s = frameImage({ fetchFrame: (i, ms, signal) => srv.fetch(`frame ${i}`, ms, signal), zoom });
    await settle();
    srv.requests[0].resolve();
    await settle();
    expect(s.img.picture()?.index).toBe(0);
    setZoom(2); // 600 drawn across ×2: the 1280 bucket
    await settle();
    expect(s.img.maxSide()).toBe(1280);
    expect(s.img.picture()?.index).toBe(0); // the coarser picture stands in
    setZoom(8); // past 1920: the original
    await settle();
    expect(srv.requests.map((r) => [r.what, r.maxSide])).toEqual([
      ["frame 0", 640],
      ["frame 0", 1280],
      ["frame 0", 0],
    ]);
  });

  it("asks for the stage's size, aborts a superseded frame and shows only the newest", async () => {
    const srv = server();
    const reports: string[] = [];
    const s = frameImage({
      fetchFrame: (i, ms, signal) => srv.fetch(`frame ${i}`, ms, signal),
      report: (_e, t) => reports.push(t),
    });
    await settle();
    expect(srv.requests.map((r) => [r.what, r.maxSide])).toEqual([["frame 0", 640]]);
    s.setFrame(1);
    s.setFrame(2);
    await settle();
    expect(srv.requests.map((r) => [r.what, r.signal.aborted])).toEqual([
      ["frame 0", true],
      ["frame 1", true],
      ["frame 2", false],
    ]);
    expect(s.img.loading()).toBe(true);
    srv.requests[2].resolve();
    await settle();
    expect(s.img.picture()).toMatchObject({ index: 2, image: { src: "frame 2" } });
    expect(s.img.loading()).toBe(false);
    expect(reports).toEqual([]);
  });

  it("a frame the server fails leaves the picture of the frame before, tagged as that frame", async () => {
    const reports: string[] = [];
    const s = frameImage({
      fetchFrame: async (i) => {
        if (i > 0) throw new Error("simulated decode failure");
        return new Blob([`frame ${i}`]);
      },
      report: (_e, t) => reports.push(t),
    });
    await settle();
    s.setFrame(7);
    await settle();
    expect(s.img.picture()).toMatchObject({ index: 0, image: { src: "frame 0" } });
    expect(s.img.loading()).toBe(false);
    expect(reports).toEqual(["Could not load frame 7"]);
  });

  it("asks non-square-pixel video in stored pixels, sharp along its stretched width", async () => {
    const srv = server();
    createRoot(() =>
      createFrameImage({
        video: () => ({ width: 1440, height: 1080, frame_count: 5, pixel_aspect: 4 / 3 }), // HDV
        frame: () => 0,
        stageSize: () => ({ width: 1280, height: 720 }),
        playing: () => true,
        images: cache(),
        fetchFrame: (i, ms, signal) => srv.fetch(`frame ${i}`, ms, signal),
        report: () => {},
      }),
    );
    await settle();
    // Drawn 1280 wide from 1440 stored columns: 1280 a long side, not the 960 its height needs.
    expect(srv.requests.map((r) => r.maxSide)).toEqual([1280]);
  });

  it("prefetches the next frame when not playing, and a step elsewhere aborts it", async () => {
    const srv = server();
    const s = frameImage({ playing: () => false, fetchFrame: (i, ms, signal) => srv.fetch(`frame ${i}`, ms, signal) });
    await settle();
    srv.requests[0].resolve();
    await settle();
    expect(srv.requests.map((r) => r.what)).toEqual(["frame 0", "frame 1"]);
    s.setFrame(10);
    await settle();
    expect(srv.requests[1].signal.aborted).toBe(true);
  });
});

describe("matte image", () => {
  const job = { id: "j1", start: 5, end: 9, status: "done", frames_done: 5 } as Job;

  it("says when the frame is outside the result and fetches the matte at the stage's size", async () => {
    const srv = server();
    const s = createRoot(() => {
      const [frame, setFrame] = createSignal(2);
      const m = createMatteImage({
        job: () => job,
        frame,
        maxSide: () => 640,
        images: cache(),
        fetchMatte: (jid, i, ms, _edge, signal) => srv.fetch(`${jid} ${i}`, ms, signal),
      });
      return { m, setFrame };
    });
    await settle();
    expect(s.m.note()).toBe("Outside the result: it covers frames 5–9");
    expect(srv.requests).toHaveLength(0);
    s.setFrame(6);
    s.setFrame(7);
    await settle();
    expect(srv.requests.map((r) => [r.what, r.maxSide, r.signal.aborted])).toEqual([
      ["j1 6", 640, true],
      ["j1 7", 640, false],
    ]);
    srv.requests[1].resolve();
    await settle();
    expect(s.m.image()?.src).toBe("j1 7");
    expect(s.m.note()).toBeNull();
  });

  it("a running result's progress does not cut off the matte on its way, and a frame not matted yet is asked again", async () => {
    const srv = server();
    let notYet = true;
    const s = createRoot(() => {
      // Each progress event brings the job as a new object.
      const [running, setRunning] = createSignal<Job>({ ...job, status: "running", frames_done: 1 });
      const m = createMatteImage({
        job: running,
        frame: () => 6,
        maxSide: () => 640,
        images: cache(),
        fetchMatte: (jid, i, ms, _edge, signal) =>
          notYet ? Promise.reject(new Error(`frame ${i} of the job is not matted yet`)) : srv.fetch(`${jid} ${i}`, ms, signal),
      });
      return { m, progress: (done: number) => setRunning({ ...job, status: "running", frames_done: done }) };
    });
    await settle();
    expect(s.m.note()).toBe("No matte for frame 6: frame 6 of the job is not matted yet");
    notYet = false;
    s.progress(2); // frame 6 is matted now
    await settle();
    s.progress(3);
    s.progress(4);
    await settle();
    expect(srv.requests.map((r) => [r.what, r.signal.aborted])).toEqual([["j1 6", false]]);
    srv.requests[0].resolve();
    await settle();
    expect(s.m.image()?.src).toBe("j1 6");
    expect(s.m.note()).toBeNull();
  });

  it("shows the matte with the edge adjustment chosen for the job's export, asked again when it changes", async () => {
    const srv = server();
    const s = createRoot(() => {
      const [edge, setEdge] = createSignal<EdgeAdjust>(NO_EDGE);
      const m = createMatteImage({
        job: () => job,
        frame: () => 6,
        maxSide: () => 640,
        edge,
        images: cache(),
        fetchMatte: (jid, i, ms, e, signal) => srv.fetch(`${jid} ${i} shift ${e.shiftEdge} feather ${e.feather}${e.reduceChatter ? " calm" : ""}`, ms, signal),
      });
      return { m, setEdge };
    });
    await settle();
    srv.requests[0].resolve();
    await settle();
    expect(s.m.image()?.src).toBe("j1 6 shift 0 feather 0");
    s.setEdge({ shiftEdge: -2, feather: 1.5, reduceChatter: false });
    await settle();
    srv.requests[1].resolve();
    await settle();
    expect(s.m.image()?.src).toBe("j1 6 shift -2 feather 1.5");
    s.setEdge({ shiftEdge: -2, feather: 1.5, reduceChatter: true }); // chatter reduced: another matte
    await settle();
    srv.requests[2].resolve();
    await settle();
    expect(s.m.image()?.src).toBe("j1 6 shift -2 feather 1.5 calm");
    s.setEdge(NO_EDGE); // back: the one already loaded, not asked again
    await settle();
    expect(s.m.image()?.src).toBe("j1 6 shift 0 feather 0");
    expect(srv.requests).toHaveLength(3);
  });
});

describe("matte image of an unfinished result", () => {
  const running = (frames_done: number) => ({ id: "j1", start: 5, end: 9, status: "running", frames_done }) as Job;

  it("asks a frame not matted yet once: playback's request stands for the stage's, until the job moves on", async () => {
    const asked: number[] = [];
    const s = createRoot(() => {
      const [frame, setFrame] = createSignal(5);
      const [job, setJob] = createSignal(running(1));
      const m = createMatteImage({
        job,
        frame,
        maxSide: () => 640,
        images: cache(),
        fetchMatte: async (_jid, i) => {
          asked.push(i);
          if (i >= 5 + job().frames_done) throw new ApiError(404, `frame ${i} of job 'j_4f9a2c0b1d3e' is not matted yet`);
          return new Blob([`j1 ${i}`]);
        },
      });
      return { m, setFrame, setJob };
    });
    await settle();
    expect(s.m.image()?.src).toBe("j1 5");
    // Playback loads the next step's matte before it steps (and plays on without it).
    const step = await s.m.load("j1", 6).catch((e: unknown) => e);
    expect(step).toBeInstanceOf(ApiError);
    s.setFrame(6);
    await settle();
    expect(asked).toEqual([5, 6]);
    expect(s.m.image()).toBeNull();
    expect(s.m.note()).toBe("No matte for frame 6: frame 6 of the job is not matted yet");
    s.setJob(running(2)); // frame 6 is matted now: asked again
    await settle();
    expect(asked).toEqual([5, 6, 6]);
    expect(s.m.image()?.src).toBe("j1 6");
    expect(s.m.note()).toBeNull();
  });

  it("shows a matte only over the frame it is of", async () => {
    const srv = server();
    const s = createRoot(() => {
      const [frame, setFrame] = createSignal(5);
      const m = createMatteImage({
        job: () => running(3),
        frame,
        maxSide: () => 640,
        images: cache(),
        fetchMatte: (jid, i, ms, _edge, signal) => srv.fetch(`${jid} ${i}`, ms, signal),
      });
      return { m, setFrame };
    });
    await settle();
    srv.requests[0].resolve();
    await settle();
    expect(s.m.imageFor(5)?.src).toBe("j1 5");
    s.setFrame(6); // its matte is on its way
    await settle();
    expect(s.m.image()).toBeNull(); // not frame 5's over frame 6
    expect(s.m.imageFor(6)).toBeNull();
    expect(s.m.imageFor(5)?.src).toBe("j1 5"); // frame 5's picture stands in while 6's loads: with its own
    srv.requests[1].resolve();
    await settle();
    expect(s.m.image()?.src).toBe("j1 6");
    expect(s.m.imageFor(6)?.src).toBe("j1 6");
    expect(s.m.imageFor(4)).toBeNull();
  });
});

describe("frame image and the connection", () => {
  it("a frame that failed while the server was away loads once it is back", async () => {
    let up = false;
    const loads: number[] = [];
    const [online, setOnline] = createSignal(true);
    const s = frameImage({
      frame: () => 4,
      online,
      fetchFrame: async (i) => {
        loads.push(i);
        if (!up) {
          setOnline(false);
          throw new Error("Cannot reach the server.");
        }
        return new Blob([`frame ${i}`]);
      },
    });
    await settle();
    expect(s.img.picture()).toBeNull();
    up = true;
    setOnline(true);
    await settle();
    await settle();
    expect(loads).toEqual([4, 4]);
    expect(s.img.picture()).toMatchObject({ index: 4, image: { src: "frame 4" } });
  });

  it("a step while the server is away keeps the picture tagged as the frame it shows, and stops loading", async () => {
    const loads: number[] = [];
    const s = frameImage({ fetchFrame: async (i) => (loads.push(i), new Blob([`frame ${i}`])) });
    await settle();
    s.setOnline(false);
    s.setFrame(39);
    await settle();
    expect(loads).toEqual([0]);
    expect(s.img.picture()).toMatchObject({ index: 0, image: { src: "frame 0" } });
    expect(s.img.loading()).toBe(false);
    s.setOnline(true);
    await settle();
    await settle();
    expect(s.img.picture()).toMatchObject({ index: 39, image: { src: "frame 39" } });
  });
});
