import { fireEvent, render, screen } from "@solidjs/testing-library";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, type Job } from "./api";
import { DownloadControl } from "./components/DownloadControl";
import { startDownload } from "./download";
import { dismiss, toasts } from "./toasts";

const FULL = "not enough disk space in the data dir: free some space, then download again";
const URL_ = "/api/jobs/j1/archive?formats=prores4444&background=00ff00";

/** A server that answers each GET with `status` (an archive's headers, or an error body), and
 * the clicks the browser's own download takes: the URL of each link clicked to download. */
function serve(status: number, body: unknown = null) {
  const signals: AbortSignal[] = [];
  const fetchMock = vi.fn(async (_url: string, init: RequestInit) => {
    signals.push(init.signal!);
    const text = status === 200 ? "PK" : JSON.stringify(body);
    return new Response(text, { status, headers: status === 200 ? { "Content-Type": "application/zip" } : { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchMock);
  const saved: { href: string; download: string | null; inPage: boolean }[] = [];
  vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
    saved.push({ href: this.getAttribute("href")!, download: this.getAttribute("download"), inPage: document.body.contains(this) });
  });
  return { fetchMock, signals, saved };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  toasts().forEach((t) => dismiss(t.id));
});

describe("downloads", () => {
  it("hand an archive the server sends to the browser's download, its first answer dropped at its headers", async () => {
    const s = serve(200);
    await startDownload(URL_);
    expect(s.fetchMock.mock.calls.map(([url, init]) => [url, init.method])).toEqual([[URL_, "GET"]]);
    expect(s.signals[0].aborted).toBe(true); // not read into memory: the browser fetches it to disk
    expect(s.saved).toEqual([{ href: URL_, download: "", inPage: true }]);
    expect(document.querySelectorAll("a[hidden]")).toHaveLength(0);
  });

  it("throw the server's refusal and start no download", async () => {
    const s = serve(507, { detail: FULL });
    const err = await startDownload(URL_).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([(err as ApiError).status, (err as ApiError).detail]).toEqual([507, FULL]);
    expect(s.saved).toEqual([]);
  });

  const job = { id: "j1", project_id: "p", status: "done", start: 0, end: 9, object_ids: [1], frames_done: 10, frames_total: 10, fps: null, eta_seconds: null, error: null, created_at: "", updated_at: "", export: { formats: ["prores4444"], background: "00ff00" } } as unknown as Job;

  it("say in the editor why the server refused a download (a full disk, with the way out), where the browser would only fail it", async () => {
    const s = serve(507, { detail: FULL });
    render(() => <DownloadControl job={job} objects={[]} />);
    const link = screen.getByTestId("result-download");
    expect(fireEvent.click(link)).toBe(false); // the browser's own download is not started
    await vi.waitFor(() => expect(toasts()).toHaveLength(1));
    expect([toasts()[0].title, toasts()[0].text]).toEqual(["Download failed", `${FULL} Deleting old projects or jobs (which works while the disk is full) makes room.`]);
    expect(s.saved).toEqual([]);
    expect(link.getAttribute("aria-busy")).toBeNull();
  });

  it("say a job's refusal in words without its id, and leave a click with a modifier to the browser", async () => {
    const s = serve(409, { detail: "job 'j_4f9a2c0b1d3e' has no finished frames yet: wait for its first frame" });
    render(() => <DownloadControl job={job} objects={[]} />);
    const link = screen.getByTestId("result-download");
    fireEvent.click(link);
    fireEvent.click(link); // a second click while the first is asked about asks nothing more
    await vi.waitFor(() => expect(toasts()).toHaveLength(1));
    expect(toasts()[0].text).toBe("the job has no finished frames yet: wait for its first frame");
    expect(s.fetchMock).toHaveBeenCalledTimes(1);
    // Ctrl+click (a new tab) is the browser's: not checked, not prevented.
    const prevented: boolean[] = [];
    const last = (e: Event) => {
      prevented.push(e.defaultPrevented);
      e.preventDefault(); // jsdom has no navigation to make
    };
    window.addEventListener("click", last);
    fireEvent.click(link, { ctrlKey: true });
    window.removeEventListener("click", last);
    expect(prevented).toEqual([false]);
    expect(s.fetchMock).toHaveBeenCalledTimes(1);
  });
});
