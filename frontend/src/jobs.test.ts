import { createRoot } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { projectGone, type Job } from "./api";
import { createJobsStore } from "./jobs";
import { FakeEventSource } from "./test/eventSource";

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

  it("a job call that finds the job gone asks whether its project still exists", async () => {
    const server = deletedServer(() => answer(404, { detail: "job 'j_1' does not exist" }));
    const store = await followedStore();
    await store.resume("j_1");
    await vi.waitFor(() => expect(server.asked("/api/projects/p_1")).toBe(1));
  });
});
