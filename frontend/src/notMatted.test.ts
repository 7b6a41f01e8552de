import { describe, expect, it } from "vitest";
import { ApiError, type Job } from "./api";
import { NotMatted } from "./notMatted";

const job = (status: Job["status"], frames_done: number) => ({ id: "j1", status, frames_done }) as Job;

describe("NotMatted", () => {
  it("keeps a 404 as the answer while the job stays as it was asked, and nothing else", async () => {
    const m = new NotMatted();
    const notYet = new ApiError(404, "frame 6 of the job is not matted yet");
    await m.watch("a:6", job("running", 1), Promise.reject(notYet)).catch(() => undefined);
    await m.watch("a:7", job("running", 1), Promise.reject(new ApiError(500, "disk full"))).catch(() => undefined);
    await m.watch("a:8", undefined, Promise.reject(notYet)).catch(() => undefined); // no job to tell when to ask again
    expect(m.answer("a:6", job("running", 1))).toBe(notYet);
    expect(m.answer("a:7", job("running", 1))).toBeUndefined();
    expect(m.answer("a:8", job("running", 1))).toBeUndefined();
    expect(m.answer("a:6", job("running", 2))).toBeUndefined(); // it moved on: ask again
    expect(m.answer("a:6", job("cancelled", 1))).toBeUndefined();
    expect(await m.watch("a:6", job("running", 2), Promise.resolve("matte"))).toBe("matte");
    expect(m.answer("a:6", job("running", 1))).toBeUndefined(); // matted now
  });

  it("keeps, for the job, that it stored only the union of its objects' mattes", async () => {
    const m = new NotMatted();
    const union = new ApiError(404, "job 'j1' stored only the union of its objects' mattes");
    await m.watch("a:2", job("running", 1), Promise.reject(new ApiError(404, "frame 2 of job 'j1' is not matted yet"))).catch(() => undefined);
    expect(m.onlyUnion(job("running", 1))).toBe(false);
    await m.watch("a:0", job("done", 10), Promise.reject(union)).catch(() => undefined);
    expect(m.onlyUnion(job("done", 10))).toBe(true);
    expect(m.onlyUnion({ ...job("done", 10), id: "j2" })).toBe(false);
  });
});
