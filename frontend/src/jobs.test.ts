import { createRoot } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { projectGone, type Job } from "./api";
import { createJobsStore } from "./jobs";
import { FakeEventSource } from "./test/eventSource";
import { toasts } from "./toasts";

const job = (over: Partial<Job> = {}): Job => ({
  id: "j_1",
  project_id: "p_1",
  status: "running",
  start: 0,
  end: 9,
  object_ids: [1],
  frames_done: 3,
  frames_total: 10,
  fps: null,
  eta_seconds: null,
  error: null,
  created_at: "2026-11-24T22:00:00Z",
  updated_at: "2026-11-24T22:00:05Z",
  ...over,
});

const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
const gone = answer(404, { detail: "project 'p_1' does not exist" });

/** A server of a project deleted elsewhere while its job `j_1` runs; `jobCall` answers the job's POSTs. */
function deletedServer(jobCall: () => Response) {
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    if (url === "/api/projects/p_1/jobs") return answer(200, [job()]);
    if (url === "/api/projects/p_1") return gone.clone();
    if (init?.method === "POST") return jobCall();
    return answer(404, { detail: "job 'j_1' does not exist" });
  });
  vi.stubGlobal("fetch", fetchMock);
  vi.stubGlobal("EventSource", FakeEventSource);
  return { asked: (url: string) => fetchMock.mock.calls.filter(([u]) => u === url).length };
}

let dispose = () => {};

/** The store of project p_1, once it follows its running job. */
async function followedStore() {
  const store = createRoot((d) => ((dispose = d), createJobsStore("p_1")));
  await vi.waitFor(() => expect(store.get("j_1")?.status).toBe("running"));
  return store;
}

describe("jobs store", () => {
  afterEach(() => {
    dispose();
    vi.unstubAllGlobals();
  });

  it("a job ended cancelled by someone else asks whether its project still exists: gone, the editor says so", async () => {
    const server = deletedServer(() => answer(200, job({ status: "cancelled" })));
    await followedStore();
    FakeEventSource.last!.emit(JSON.stringify(job({ status: "cancelled" })));
    await vi.waitFor(() => expect(projectGone()).toBe("p_1"));
    expect(server.asked("/api/projects/p_1")).toBe(1);
  });

  it("a job this editor cancelled asks nothing more", async () => {
    const server = deletedServer(() => answer(200, job({ status: "cancelled" })));
    const store = await followedStore();
    await store.cancel("j_1");
    FakeEventSource.last!.emit(JSON.stringify(job({ status: "cancelled" })));
    expect(store.get("j_1")?.status).toBe("cancelled");
    await new Promise((r) => setTimeout(r, 0));
    expect(server.asked("/api/projects/p_1")).toBe(0);
  });

  it("a job deleted elsewhere leaves the list when its stream says so, with no Resume to offer", async () => {
    // The server's delete cancels the job first; its stream ends with `deleted`, not that cancel.
    const server = deletedServer(() => answer(404, { detail: "job 'j_1' does not exist" }));
    const store = await followedStore();
    const followed = FakeEventSource.last!;
    followed.emit(JSON.stringify({ id: "j_1" }), "deleted");
    expect(store.get("j_1")).toBeUndefined();
    expect(store.jobs()).toEqual([]);
    expect(followed.closed).toBe(true);
    // Its project may have gone with it (deleted in another tab): the editor asks.
    await vi.waitFor(() => expect(projectGone()).toBe("p_1"));
    expect(server.asked("/api/projects/p_1")).toBe(1);
    // A list read answered after it does not bring it back.
    await store.refresh();
    expect(store.get("j_1")).toBeUndefined();
  });

  it("a job call that finds the job gone asks whether its project still exists", async () => {
    const server = deletedServer(() => answer(404, { detail: "job 'j_1' does not exist" }));
    const store = await followedStore();
    await store.resume("j_1");
    await vi.waitFor(() => expect(server.asked("/api/projects/p_1")).toBe(1));
  });

  it("a list read answered late puts back no older state of a job, nor drops one made meanwhile", async () => {
    // The first list answers at once; the re-read (the window is clicked into) waits.
    const lists: ((r: Response) => void)[] = [];
    vi.stubGlobal("EventSource", FakeEventSource);
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === "/api/projects/p_1/jobs" && init?.method === "POST") return answer(201, job({ id: "j_2", status: "queued", frames_done: 0 }));
        if (url === "/api/projects/p_1/jobs") return lists.length ? new Promise<Response>((r) => lists.push(r)) : (lists.push(() => {}), answer(200, [job()]));
        return answer(404, { detail: "not here" });
      }),
    );
    const store = await followedStore();
    const followed = FakeEventSource.last!;

    const read = store.refresh();
    await vi.waitFor(() => expect(lists).toHaveLength(2));
    // Meanwhile the job ends, as its events say, and a new one is made.
    followed.emit(JSON.stringify(job({ status: "done", frames_done: 10 })));
    await store.create({ start: 0, end: 9, object_ids: null });
    lists[1](answer(200, [job({ frames_done: 7 })])); // read while j_1 still ran, before j_2
    await read;

    expect(store.jobs().map((j) => [j.id, j.status])).toEqual([
      ["j_2", "queued"],
      ["j_1", "done"],
    ]);
    expect(FakeEventSource.last!.url).toBe("/api/jobs/j_2/events"); // j_1 is not followed again
  });

  it("one resume at a time per job: a second press while the first is on its way asks nothing and says nothing", async () => {
    // The server takes the first POST and answers a second one with 409 (the job is queued by then).
    let answerFirst!: () => void;
    const first = new Promise<void>((r) => (answerFirst = r));
    const posts: string[] = [];
    vi.stubGlobal("EventSource", FakeEventSource);
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === "/api/projects/p_1/jobs") return answer(200, [job({ status: "interrupted" })]);
        if (init?.method !== "POST") return answer(404, { detail: "not here" });
        posts.push(url);
        if (posts.length > 1) return answer(409, { detail: "job 'j_1' is queued: it cannot become queued" });
        await first;
        return answer(200, job({ status: "queued", frames_done: 3 }));
      }),
    );
    const store = createRoot((d) => ((dispose = d), createJobsStore("p_1")));
    await vi.waitFor(() => expect(store.get("j_1")?.status).toBe("interrupted"));
    const errorsBefore = toasts().filter((t) => t.kind === "error").length;

    const one = store.resume("j_1");
    expect(store.resuming("j_1")).toBe(true);
    const two = store.resume("j_1");
    answerFirst();
    await Promise.all([one, two]);

    expect(posts).toEqual(["/api/jobs/j_1/resume"]);
    expect(store.get("j_1")?.status).toBe("queued");
    expect(store.resuming("j_1")).toBe(false);
    expect(toasts().filter((t) => t.kind === "error")).toHaveLength(errorsBefore);
  });
  it("says nothing once its project was left: a list answered (refused) after that is not told in the next project", async () => {
    let refuse = () => {};
    vi.stubGlobal("EventSource", FakeEventSource);
    vi.stubGlobal(
      "fetch",
      vi.fn(() => new Promise<Response>((r) => (refuse = () => r(answer(500, { detail: "database is locked" }))))),
    );
    const errorsBefore = toasts().filter((t) => t.kind === "error").length;
    const store = createRoot((d) => ((dispose = d), createJobsStore("p_1")));
    dispose(); // the project was left
    refuse();
    await vi.waitFor(() => expect(store.loading()).toBe(false));
    expect(toasts().filter((t) => t.kind === "error")).toHaveLength(errorsBefore);
  });

  it("says nothing once its project was left: a delete refused after that is not told in the next project", async () => {
    const refusals: (() => void)[] = [];
    vi.stubGlobal("EventSource", FakeEventSource);
    vi.stubGlobal(
      "fetch",
      vi.fn((_path: string, init?: RequestInit) =>
        init?.method === "DELETE" ? new Promise<Response>((r) => refusals.push(() => r(answer(500, { detail: "database is locked" })))) : Promise.resolve(answer(200, [])),
      ),
    );
    const store = createRoot((d) => ((dispose = d), createJobsStore("p_1")));
    await vi.waitFor(() => expect(store.loading()).toBe(false));
    const errorsBefore = toasts().filter((t) => t.kind === "error").length;
    const removed = store.remove("j_1");
    await vi.waitFor(() => expect(refusals).toHaveLength(1));
    dispose(); // the project was left
    refusals[0]();
    expect(await removed).toBe(false);
    expect(toasts().filter((t) => t.kind === "error")).toHaveLength(errorsBefore);
  });
});
