// An upload whose answer was lost asks the server for its key's answer before it sends the
// file again (GET /api/idempotency-keys/{key}): a made project is taken from there, and the
// file (minutes of a large upload) goes again only when the key has none.
import { createRoot } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { UploadCancelled, online, setOnline, uploadProject, type Project, type UploadRetry } from "../api";
import { answered, fakeKeyAnswers, NO_ANSWER, type Ask } from "../test/keys";
import { fakeXhr, type Try } from "../test/xhr";
import { dismiss, toasts } from "../toasts";
import { createUpload } from "./upload";

const file = () => new File([new Uint8Array(1000)], "clip.mp4", { type: "video/mp4" });
const project: Project = {
  id: "p_1",
  name: "clip",
  filename: "clip.mp4",
  created_at: "",
  video: { width: 320, height: 180, fps: 25, frame_count: 36, duration: 1.44, rotation: 0, codec: "h264", has_audio: false, pixel_aspect: 1 },
  has_track: false,
};
const STILL = { detail: "a request with Idempotency-Key 'k' (POST /api/projects) is still being answered: retry once it has finished" };

afterEach(() => {
  vi.unstubAllGlobals();
  toasts().forEach((t) => dismiss(t.id));
});

/** Runs an upload under key "k" to its end over fake timers: its project or error, the bytes
 * it reported, its retries, the uploads sent (one per body) and the requests fetch made. */
async function run(tries: Try[], asks: Ask[], sentBefore = false) {
  const uploads = fakeXhr(tries);
  const fetched = fakeKeyAnswers(asks);
  const progress: number[] = [];
  const retries: UploadRetry[] = [];
  vi.useFakeTimers();
  try {
    const up = uploadProject(file(), (loaded) => progress.push(loaded), {}, "k", (r) => retries.push(r), sentBefore);
    const result = up.promise.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    return { result: await result, progress, retries, uploads: uploads.length, fetched };
  } finally {
    vi.useRealTimers();
  }
}

describe("an upload's retry", () => {
  it("takes the project the key's answer holds and sends no second upload body after an answer lost with every byte sent", async () => {
    const r = await run([{ sent: 1, answer: "error" }], [answered(project)]);
    expect(r.result).toEqual(project);
    expect(r.uploads).toBe(1);
    expect(r.fetched).toEqual(["GET /api/idempotency-keys/k"]);
    expect(r.progress).toEqual([1000]); // never restarted from the first byte
    expect(r.retries.map((x) => x.attempt)).toEqual([2]);
  });

  it("sends the file again, from its first byte, when the key has no answer (404)", async () => {
    const r = await run(
      [
        { sent: 0.4, answer: "error" },
        { sent: 1, answer: { status: 201, body: project } },
      ],
      [NO_ANSWER],
    );
    expect(r.result).toEqual(project);
    expect(r.uploads).toBe(2);
    expect(r.fetched).toEqual(["GET /api/idempotency-keys/k"]);
    expect(r.progress).toEqual([400, 0, 1000]);
  });

  it("waits while the key's upload is still being answered (409), then takes its answer", async () => {
    const r = await run([{ sent: 1, answer: { status: 504, body: null } }], [{ status: 409, body: STILL }, answered(project)]);
    expect(r.result).toEqual(project);
    expect(r.uploads).toBe(1);
    expect(r.fetched).toEqual(["GET /api/idempotency-keys/k", "GET /api/idempotency-keys/k"]);
    expect(r.retries.map((x) => [x.attempt, x.reason, x.delayMs])).toEqual([
      [2, "The server is not answering (504). Is `vidmatte serve` running?", 2000],
      [3, "The server is still answering an earlier try of this upload.", 5000],
    ]);
  });

  it("asks again later when the server is out of reach for the question too", async () => {
    const r = await run([{ sent: 1, answer: "error" }], ["error", answered(project)]);
    expect(r.result).toEqual(project);
    expect(r.uploads).toBe(1);
    expect(r.fetched).toHaveLength(2);
  });

  it("sends a key that is not a plain token percent-encoded", async () => {
    const uploads = fakeXhr([{ sent: 1, answer: "error" }]);
    const fetched = fakeKeyAnswers([answered(project, "a/b?c")]);
    vi.useFakeTimers();
    try {
      const up = uploadProject(file(), () => {}, {}, "a/b?c");
      const result = up.promise.catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(await result).toEqual(project);
    } finally {
      vi.useRealTimers();
    }
    expect([uploads.length, fetched]).toEqual([1, ["GET /api/idempotency-keys/a%2Fb%3Fc"]]);
  });

  it("of a key tried before asks before its first try, and sends nothing when answered", async () => {
    const r = await run([], [answered(project)], true);
    expect([r.result, r.uploads, r.fetched]).toEqual([project, 0, ["GET /api/idempotency-keys/k"]]);
  });

  it("stops asking when cancelled, without telling the connection indicator the server is away", async () => {
    setOnline(false);
    const uploads = fakeXhr([{ sent: 1, answer: { status: 409, body: STILL } }]); // the server answers
    fakeKeyAnswers(["hang"]);
    vi.useFakeTimers();
    try {
      const up = uploadProject(file(), () => {}, {}, "k");
      const result = up.promise.catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(2000); // the retry's wait: now asking
      up.abort();
      await vi.advanceTimersByTimeAsync(60_000);
      const err = await result;
      expect(err).toBeInstanceOf(UploadCancelled);
      expect((err as UploadCancelled).mayBeMade).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    expect(uploads).toHaveLength(1);
    expect(online()).toBe(true);
  });
});

describe("Retry upload", () => {
  it("of an upload that gave up takes the project its key made, without sending the file again", async () => {
    const uploads = fakeXhr(Array.from({ length: 4 }, () => ({ sent: 1, answer: "error" as const })));
    const fetched = fakeKeyAnswers([NO_ANSWER, NO_ANSWER, NO_ANSWER, answered(project)]);
    const added: string[] = [];
    vi.useFakeTimers();
    try {
      const up = createRoot(() => createUpload({ onAdded: (p: Project) => added.push(p.id), onSettled: () => {} }));
      const first = up.start(file());
      await vi.advanceTimersByTimeAsync(60_000);
      await first;
      expect(up.failed()).not.toBeNull();
      expect(uploads).toHaveLength(4);
      const again = up.retry();
      await vi.advanceTimersByTimeAsync(60_000);
      await again;
    } finally {
      vi.useRealTimers();
    }
    expect(added).toEqual(["p_1"]);
    expect(uploads).toHaveLength(4); // no fifth body
    expect(fetched).toHaveLength(4);
    expect(new Set(uploads.map((h) => h["Idempotency-Key"])).size).toBe(1);
  });
});
