import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, UploadCancelled, api, detailFromBody, errorText, isJob, isUnreachable, online, send, setOnline, tokenIsRight, UploadGaveUp, uploadProject, urls, type UploadRetry } from "./api";
import { fakeKeyAnswers } from "./test/keys";
import { fakeXhr, type Try } from "./test/xhr";
import { trackApi } from "./track";
import { storedErrorText } from "./editor/objects";
import { formatHash, parseHash } from "./components/App";
import { greyToAlpha, hexToRgb, viewSize } from "./compose";
import { NO_EDGE } from "./exportChoice";

describe("error messages", () => {
  it("never show the server's internal job or project ids", () => {
    expect(errorText(new ApiError(404, "frame 3 of job 'j_4f9a2c0b1d3e' is not matted yet"))).toBe("frame 3 of the job is not matted yet");
    expect(errorText(new ApiError(409, "job 'j_4f9a2c0b1d3e' is cancelled: only interrupted, cancelled or failed jobs can be resumed"))).toBe(
      "the job is cancelled: only interrupted, cancelled or failed jobs can be resumed",
    );
    expect(errorText(new ApiError(404, "object(s) [3] do not exist in project 'p_00aa11bb22cc'"))).toBe("object(s) [3] do not exist in the project");
  });

  it("tell a server that is away from one that refused, and a cancelled upload from a failed one", () => {
    expect(isUnreachable(new ApiError(0, "Cannot reach the server."))).toBe(true);
    expect(isUnreachable(new ApiError(503, "down"))).toBe(true);
    expect(isUnreachable(new ApiError(422, "bad range"))).toBe(false);
    expect(isUnreachable(new Error("x"))).toBe(false);
    expect(new UploadCancelled()).toBeInstanceOf(Error);
    expect(errorText(new UploadCancelled())).toBe("Upload cancelled.");
  });

  it("says how to make room when the server's disk is full (deletes still work), for any write and a stored job error", () => {
    const hint = "Deleting old projects or jobs (which works while the disk is full) makes room.";
    expect(errorText(new ApiError(507, "not enough disk space in the data dir: free some space, then track again"))).toBe(
      `not enough disk space in the data dir: free some space, then track again ${hint}`,
    );
    expect(errorText(new ApiError(507, "Request failed: 507 Insufficient Storage"))).toBe(`Request failed: 507 Insufficient Storage ${hint}`);
    expect(storedErrorText("not enough disk space in the data dir: free some space, then resume the job", [])).toBe(
      `not enough disk space in the data dir: free some space, then resume the job ${hint}`,
    );
    expect(errorText(new ApiError(409, "the job is running"))).toBe("the job is running");
  });

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

  it("sends a job's POST again with the same Idempotency-Key when its answer is lost, and a new key for the next job", async () => {
    vi.useFakeTimers();
    const made = { id: "j_1", status: "queued" };
    const answers = [
      () => Promise.reject(new TypeError("Failed to fetch")),
      async () => new Response("", { status: 504 }),
      async () => new Response(JSON.stringify(made), { status: 201 }),
      async () => new Response(JSON.stringify({ id: "j_2" }), { status: 201 }),
    ];
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => answers.shift()!());
    vi.stubGlobal("fetch", fetchMock);
    try {
      const job = api.createJob("p", { start: 0, end: 5, object_ids: null });
      await vi.advanceTimersByTimeAsync(1000 + 3000);
      expect(await job).toEqual(made);
      await api.createJob("p", { start: 0, end: 5, object_ids: null });
    } finally {
      vi.useRealTimers();
    }
    const keys = fetchMock.mock.calls.map(([, init]) => (init.headers as Record<string, string>)["Idempotency-Key"]);
    expect(keys[0]).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(keys.slice(0, 3)).toEqual([keys[0], keys[0], keys[0]]);
    expect(keys[3]).not.toBe(keys[0]);
    expect(online()).toBe(true);
  });

  it("does not send a job's POST again once the server refused it", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ detail: "no frame holds points" }), { status: 422 }));
    vi.stubGlobal("fetch", fetchMock);
    const err = await api.createJob("p", { start: 0, end: 5, object_ids: null }).catch((e) => e);
    expect([err.status, fetchMock.mock.calls.length]).toEqual([422, 1]);
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

  it("knows the server is away when a request cannot reach it, and back at its next answer", async () => {
    setOnline(true);
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    const err = await api.listProjects().catch((e) => e);
    expect(isUnreachable(err)).toBe(true);
    expect(online()).toBe(false);
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ detail: "no such project" }), { status: 404 })));
    await api.getProject("p").catch(() => undefined);
    expect(online()).toBe(true); // a refusal is an answer
    vi.stubGlobal("fetch", vi.fn(async () => new Response("", { status: 502 })));
    await api.listProjects().catch(() => undefined);
    expect(online()).toBe(false); // a proxy says the server behind it is down
    setOnline(true);
  });

  it("checks a typed token with the server, and says plainly when it cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ detail: "wrong token" }), { status: 401 })));
    expect(await tokenIsRight("nope")).toBe(false);
    vi.stubGlobal("fetch", vi.fn(async () => new Response("[]", { status: 200 })));
    expect(await tokenIsRight("right")).toBe(true);
    expect(await tokenIsRight("right\u200b")).toBe(false); // pasted with a zero-width space
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    const err = await tokenIsRight("right").catch((e: unknown) => e);
    expect(errorText(err)).toBe("Cannot reach the server. Is `vidmatte serve` running?");
    expect(online()).toBe(false);
    setOnline(true);
  });

  it("sends a token to check as any request goes, its header with the others", async () => {
    const calls: RequestInit[] = [];
    vi.stubGlobal("fetch", vi.fn(async (_url: string, init: RequestInit) => (calls.push(init), new Response("", { status: 503 }))));
    const err = await tokenIsRight("right").catch((e: unknown) => e);
    expect(errorText(err)).toBe("The server is not answering (503). Is `vidmatte serve` running?");
    expect(online()).toBe(false);
    await send("PUT", "/api/x", { a: 1 }, undefined, { Authorization: "Bearer t" }).catch(() => undefined);
    expect(calls.map((c) => c.headers)).toEqual([{ Authorization: "Bearer right" }, { Authorization: "Bearer t", "Content-Type": "application/json" }]);
    setOnline(true);
  });

  it("builds relative URLs", () => {
    expect(urls.frame("p", 3, 640)).toBe("/api/projects/p/frames/3?max_side=640");
    expect(urls.alpha("j", 3, 640)).toBe("/api/jobs/j/alpha/3?max_side=640");
    expect(urls.alpha("j", 3)).toBe("/api/jobs/j/alpha/3");
    expect(urls.alpha("j", 3, 640, NO_EDGE)).toBe("/api/jobs/j/alpha/3?max_side=640");
    expect(urls.alpha("j", 3, 640, { ...NO_EDGE, shiftEdge: -2.5, feather: 1.5 })).toBe("/api/jobs/j/alpha/3?max_side=640&shift_edge=-2.5&feather=1.5");
    expect(urls.alpha("j", 3, 0, { ...NO_EDGE, feather: 4 })).toBe("/api/jobs/j/alpha/3?feather=4");
    expect(urls.alpha("j", 3, 0, { ...NO_EDGE, reduceChatter: true })).toBe("/api/jobs/j/alpha/3?reduce_chatter=true");
    expect(urls.alpha("j", 3, 640, { shiftEdge: 2, feather: 0, reduceChatter: true })).toBe("/api/jobs/j/alpha/3?max_side=640&shift_edge=2&reduce_chatter=true");
    expect(urls.frame("p", 3)).toBe("/api/projects/p/frames/3");
    expect(urls.archive("j", "formats=alpha_png")).toBe("/api/jobs/j/archive?formats=alpha_png");
  });

  it("recognises jobs", () => {
    expect(isJob({ id: "j", status: "done", start: 0, end: 1, frames_done: 2, frames_total: 2 })).toBe(true);
    expect(isJob({ id: "j", status: "done" })).toBe(false);
    expect(isJob(null)).toBe(false);
  });
});

describe("upload", () => {
  afterEach(() => vi.unstubAllGlobals());
  const file = () => new File([new Uint8Array(1000)], "clip.mp4", { type: "video/mp4" });
  const project = { id: "p_1", name: "clip" };
  const STILL = { detail: "a request with Idempotency-Key 'k' to POST /api/projects is still being answered; retry after it is" };

  /** Runs an upload to its end over fake timers; its project or error, what it heard, and the keys sent. */
  async function run(tries: Try[]) {
    const sent = fakeXhr(tries);
    fakeKeyAnswers([]); // each retry asks for the key's answer first: none, the file goes again
    const progress: number[] = [];
    const retries: UploadRetry[] = [];
    vi.useFakeTimers();
    try {
      const up = uploadProject(file(), (loaded) => progress.push(loaded), {}, undefined, (r) => retries.push(r));
      const result = up.promise.catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(60_000);
      return { result: await result, progress, retries, keys: sent.map((h) => h["Idempotency-Key"]) };
    } finally {
      vi.useRealTimers();
    }
  }

  it("sends the file again with the same Idempotency-Key when the answer is lost after every byte went, and gets the project", async () => {
    const r = await run([
      { sent: 1, answer: "error" },
      { sent: 1, answer: { status: 201, body: project } },
    ]);
    expect(r.result).toEqual(project);
    expect(r.keys[0]).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(r.keys).toEqual([r.keys[0], r.keys[0]]);
    expect(r.progress).toEqual([1000, 0, 1000]); // the second try starts from the first byte
    expect(r.retries).toEqual([{ attempt: 2, tries: 4, reason: "Cannot reach the server. Is `vidmatte serve` running?", delayMs: 2000 }]);
  });

  it("retries a proxy's 504, a timeout, a drop part way, and a first try still being answered, and gives a new key to the next file", async () => {
    const r = await run([
      { sent: 1, answer: { status: 504, body: null } },
      { sent: 1, answer: { status: 409, body: STILL } },
      { sent: 0.4, answer: "timeout" },
      { sent: 1, answer: { status: 201, body: project } },
    ]);
    expect(r.result).toEqual(project);
    expect(new Set(r.keys).size).toBe(1);
    expect(r.retries.map((x) => [x.attempt, x.reason])).toEqual([
      [2, "The server is not answering (504). Is `vidmatte serve` running?"],
      [3, "The server is still answering an earlier try of this upload."],
      [4, "Cannot reach the server. Is `vidmatte serve` running?"],
    ]);
    const next = await run([{ sent: 1, answer: { status: 201, body: project } }]);
    expect(next.keys[0]).not.toBe(r.keys[0]);
  });

  it("counts an upload that cannot reach the server as unreachable for the connection indicator, and its next answer as back", async () => {
    setOnline(true);
    const r = await run(Array.from({ length: 4 }, () => ({ sent: 0.3, answer: "error" as const })));
    expect(r.result).toBeInstanceOf(UploadGaveUp);
    expect(online()).toBe(false);
    const back = await run([{ sent: 1, answer: { status: 201, body: project } }]);
    expect(back.result).toEqual(project);
    expect(online()).toBe(true);
  });

  it("does not send the file again into a full disk: one try, the server's message and how to make room", async () => {
    const r = await run([
      { sent: 1, answer: { status: 507, body: { detail: "not enough disk space in the data dir: free some space, then upload again" } } },
      { sent: 1, answer: { status: 201, body: project } },
    ]);
    expect(r.keys).toHaveLength(1);
    expect(r.result).not.toBeInstanceOf(UploadGaveUp);
    expect(errorText(r.result)).toBe(
      "not enough disk space in the data dir: free some space, then upload again Deleting old projects or jobs (which works while the disk is full) makes room.",
    );
  });

  it("gives up after its bounded retries, saying why and how often it tried", async () => {
    const r = await run(Array.from({ length: 5 }, () => ({ sent: 1, answer: "error" as const })));
    expect(r.keys).toHaveLength(4);
    expect(r.result).toBeInstanceOf(UploadGaveUp);
    expect(errorText(r.result)).toBe("Cannot reach the server. Is `vidmatte serve` running? Gave up after 4 tries; Retry upload asks the server first and sends the file again only if it has not made the project.");
  });

  it("does not send again what the server refused, and keeps a key it is given", async () => {
    const sent = fakeXhr([{ sent: 1, answer: { status: 422, body: { detail: "not a video" } } }]);
    const err = await uploadProject(file(), () => {}, {}, "key-1").promise.catch((e: unknown) => e);
    expect([errorText(err), sent.map((h) => h["Idempotency-Key"])]).toEqual(["not a video", ["key-1"]]);
  });

  it("stops waiting to retry when cancelled", async () => {
    const sent = fakeXhr([{ sent: 0.4, answer: "error" }]);
    vi.useFakeTimers();
    try {
      const up = uploadProject(file(), () => {}, {}, "k", () => up.abort());
      const err = up.promise.catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(await err).toBeInstanceOf(UploadCancelled);
      expect(sent).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("says a cancel may have left a project only when a try before it reached the server whole", async () => {
    /** The error of an upload cancelled at its first retry's wait after `first`. */
    async function cancelledAfter(first: Try) {
      fakeXhr([first]);
      vi.useFakeTimers();
      try {
        const up = uploadProject(file(), () => {}, {}, "k", () => up.abort());
        const err = up.promise.catch((e: unknown) => e);
        await vi.advanceTimersByTimeAsync(60_000);
        return (await err) as UploadCancelled;
      } finally {
        vi.useRealTimers();
      }
    }
    // Every byte went and the answer was lost, or the server still answers it: it may be made.
    expect((await cancelledAfter({ sent: 1, answer: "error" })).mayBeMade).toBe(true);
    expect((await cancelledAfter({ sent: 0.5, answer: { status: 409, body: STILL } })).mayBeMade).toBe(true);
    // Cut off part way: the server never had the whole file.
    expect((await cancelledAfter({ sent: 0.4, answer: "error" })).mayBeMade).toBe(false);
  });
});

describe("objects and track runs", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("are POSTed again with the same Idempotency-Key when the answer is lost", async () => {
    const track = { project_id: "p", status: "running", start: 0, end: 5, frames_done: 0, stale: false, tracked: [], flags: [] };
    const answers = [
      () => Promise.reject(new TypeError("Failed to fetch")),
      async () => new Response(JSON.stringify({ id: 1, project_id: "p", name: "Object 1", color: "#f00" }), { status: 201 }),
      async () => new Response("", { status: 502 }),
      async () => new Response(JSON.stringify(track), { status: 202 }),
    ];
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => answers.shift()!());
    vi.stubGlobal("fetch", fetchMock);
    vi.useFakeTimers();
    try {
      const obj = api.createObject("p", {});
      await vi.advanceTimersByTimeAsync(1000);
      expect((await obj).id).toBe(1);
      const run = trackApi.start("p", 0, 5);
      await vi.advanceTimersByTimeAsync(1000);
      expect((await run).status).toBe("running");
    } finally {
      vi.useRealTimers();
    }
    const keys = fetchMock.mock.calls.map(([, init]) => (init.headers as Record<string, string>)["Idempotency-Key"]);
    expect(fetchMock.mock.calls.map(([url]) => url)).toEqual(["/api/projects/p/objects", "/api/projects/p/objects", "/api/projects/p/track", "/api/projects/p/track"]);
    expect(keys[0]).toBeTruthy();
    expect([keys[1], keys[3]]).toEqual([keys[0], keys[2]]);
    expect(keys[2]).not.toBe(keys[0]);
    setOnline(true);
  });
});

describe("an object made for a held click", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("goes with the click's Idempotency-Key, the same at each later try of the click", async () => {
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => new Response(JSON.stringify({ id: 1, project_id: "p", name: "Object 1", color: "#f00" }), { status: 201 }));
    vi.stubGlobal("fetch", fetchMock);
    await api.createObject("p", {}, "click-7");
    await api.createObject("p", {}, "click-7");
    const keys = fetchMock.mock.calls.map(([, init]) => (init.headers as Record<string, string>)["Idempotency-Key"]);
    expect(keys).toEqual(["click-7", "click-7"]);
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
