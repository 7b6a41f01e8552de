// A result deleted from the panel (its mattes fill the disk): asked first, gone from the list
// once the server deleted it, kept with a message when it could not; Resume offered only when
// the server would take it.
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Job } from "../api";
import { pendingConfirm } from "../confirm";
import { createJobsStore } from "../jobs";
import { FakeEventSource } from "../test/eventSource";
import { job, objects } from "../test/jobs";
import { dismiss, toasts } from "../toasts";
import { ConfirmHost } from "./ConfirmHost";
import { ResultsPanel } from "./ResultsPanel";

const answer = (status: number, body?: unknown) => new Response(body === undefined ? null : JSON.stringify(body), { status });

/** A server of project "p" with these jobs; `deleted` answers a DELETE of a job. */
function serve(jobs: Job[], deleted: () => Response = () => answer(204)) {
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    if (url === "/api/projects/p/jobs") return answer(200, jobs);
    if (init?.method === "DELETE") return deleted();
    if (url === "/api/projects/p") return answer(200, { id: "p" });
    return answer(404, { detail: "not here" });
  });
  vi.stubGlobal("fetch", fetchMock);
  vi.stubGlobal("EventSource", FakeEventSource);
  return { deletes: () => fetchMock.mock.calls.filter(([, init]) => init?.method === "DELETE").map(([url]) => url) };
}

function panel(onActivate: (jid: string | null) => void = () => {}, active: string | null = null) {
  render(() => {
    const jobs = createJobsStore("p"); // once: a prop's expression runs at each read
    return (
      <>
        <ResultsPanel jobs={jobs} objects={objects} activeJobId={active} mode="off" onActivate={onActivate} onMode={() => {}} />
        <ConfirmHost />
      </>
    );
  });
}

const rows = () => screen.queryAllByTestId("result-item").map((r) => r.dataset.jobId);

afterEach(() => {
  pendingConfirm()?.resolve(false);
  toasts().forEach((t) => dismiss(t.id));
  vi.unstubAllGlobals();
});

describe("the result views", () => {
  it("show Prompts as chosen when the result on view is gone (deleted in another tab or window), not a view that shows nothing", async () => {
    serve([job({ id: "j1" })]);
    render(() => {
      const jobs = createJobsStore("p");
      return <ResultsPanel jobs={jobs} objects={objects} activeJobId="j9" mode="tint" onActivate={() => {}} onMode={() => {}} />;
    });
    await vi.waitFor(() => expect(rows()).toEqual(["j1"]));
    const checked = screen.getAllByRole("radio").filter((b) => b.getAttribute("aria-checked") === "true");
    expect(checked.map((b) => b.dataset.mode)).toEqual(["off"]);
    expect(screen.getByTestId("overlay-mode").dataset.mode).toBe("off");
  });
});

describe("deleting a result", () => {
  it("asks first, then deletes it and takes it off the list; the others stay", async () => {
    const server = serve([job({ id: "j1", start: 0, end: 9 }), job({ id: "j2", start: 3, end: 5 })]);
    const onActivate = vi.fn();
    panel(onActivate, "j1");
    await vi.waitFor(() => expect(rows()).toEqual(["j1", "j2"]));
    fireEvent.click(screen.getAllByTestId("result-delete")[0]);
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("frames 0–9 will be deleted with its mattes");
    expect(server.deletes()).toEqual([]); // nothing before the answer
    fireEvent.click(screen.getByTestId("confirm-ok"));
    await vi.waitFor(() => expect(rows()).toEqual(["j2"]));
    expect(server.deletes()).toEqual(["/api/jobs/j1"]);
    expect(onActivate).toHaveBeenCalledWith(null); // the deleted result was on view
  });

  it("cannot be asked again while its DELETE is on its way (a large result's mattes take a while): one question, one DELETE", async () => {
    let answerDelete: (r: Response) => void = () => {};
    const server = serve([job({ id: "j1" })]);
    vi.mocked(fetch).mockImplementation(async (url, init) => {
      if (init?.method === "DELETE") return new Promise<Response>((r) => (answerDelete = r));
      return answer(200, url === "/api/projects/p/jobs" ? [job({ id: "j1" })] : { id: "p" });
    });
    panel();
    await vi.waitFor(() => expect(rows()).toEqual(["j1"]));
    fireEvent.click(screen.getByTestId("result-delete"));
    fireEvent.click(await screen.findByTestId("confirm-ok"));
    await vi.waitFor(() => expect(server.deletes()).toEqual(["/api/jobs/j1"]));
    expect([screen.getByTestId("result-delete").getAttribute("aria-disabled"), screen.getByTestId("result-delete").textContent]).toEqual(["true", "Deleting…"]);
    fireEvent.click(screen.getByTestId("result-delete"));
    expect(pendingConfirm()).toBeNull();
    answerDelete(answer(204));
    await vi.waitFor(() => expect(rows()).toEqual([]));
  });

  it("does nothing when the question is cancelled", async () => {
    const server = serve([job({ id: "j1" })]);
    panel();
    await vi.waitFor(() => expect(rows()).toEqual(["j1"]));
    fireEvent.click(screen.getByTestId("result-delete"));
    fireEvent.click(await screen.findByTestId("confirm-cancel"));
    await new Promise((r) => setTimeout(r, 0));
    expect(server.deletes()).toEqual([]);
    expect(rows()).toEqual(["j1"]);
  });

  it("says a running job is cancelled first", async () => {
    serve([job({ id: "j1", status: "running", frames_done: 3 })]);
    panel();
    await vi.waitFor(() => expect(rows()).toEqual(["j1"]));
    fireEvent.click(screen.getByTestId("result-delete"));
    expect((await screen.findByTestId("confirm-dialog")).textContent).toContain("It is running: it will be cancelled first.");
  });

  it("keeps the result and says why when the server could not delete it", async () => {
    serve([job({ id: "j1" })], () => answer(500, { detail: "the database is locked" }));
    panel();
    await vi.waitFor(() => expect(rows()).toEqual(["j1"]));
    fireEvent.click(screen.getByTestId("result-delete"));
    fireEvent.click(await screen.findByTestId("confirm-ok"));
    await vi.waitFor(() => expect(toasts().map((t) => [t.title, t.text])).toEqual([["Could not delete the result", "the database is locked"]]));
    expect(rows()).toEqual(["j1"]);
  });

  it("takes off the list a result deleted elsewhere meanwhile (404), saying nothing", async () => {
    serve([job({ id: "j1" })], () => answer(404, { detail: "job 'j1' does not exist" }));
    panel();
    await vi.waitFor(() => expect(rows()).toEqual(["j1"]));
    fireEvent.click(screen.getByTestId("result-delete"));
    fireEvent.click(await screen.findByTestId("confirm-ok"));
    await vi.waitFor(() => expect(rows()).toEqual([]));
    expect(toasts()).toEqual([]);
  });
});

describe("Resume", () => {
  it("is offered only for a job the server would resume", async () => {
    serve([
      job({ id: "j1", status: "cancelled", frames_done: 4, resumable: true }),
      job({ id: "j2", status: "failed", frames_done: 4, resumable: false }), // made with another head
      job({ id: "j3", status: "interrupted", frames_done: 4 }), // an older server: its status says
    ]);
    panel();
    await vi.waitFor(() => expect(rows()).toEqual(["j1", "j2", "j3"]));
    const offered = screen.getAllByTestId("result-resume").map((b) => b.closest<HTMLElement>("[data-job-id]")!.dataset.jobId);
    expect(offered).toEqual(["j1", "j3"]);
  });
});
