// What a screen reader or keyboard user meets where a sighted mouse user sees enough: controls
// named for what they do, counts that say what they count, and the keyboard kept on a nearby
// control when the one it was on goes away.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createSignal } from "solid-js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Job, Project } from "../api";
import type { JobsStore } from "../jobs";
import { fromFramePoints } from "../points";
import { job as jobOf, objects } from "../test/jobs";
import { renderObjectList } from "../test/objectList";
import { dismiss, notify, toasts } from "../toasts";
import { ConfirmHost } from "./ConfirmHost";
import { MattingDialog } from "./MattingDialog";
import { ProjectsPanel } from "./ProjectsPanel";
import { ResultsPanel } from "./ResultsPanel";
import { Toasts } from "./Toasts";

/** Job "j1" of Dancer alone (`over` changes any of it). */
const job = (over: Partial<Job> = {}): Job => jobOf({ object_ids: [1], ...over });

/** Jobs whose list the test changes, as progress events change the live one. */
function liveJobs(first: Job[]) {
  const [list, setList] = createSignal(first);
  const store: JobsStore = {
    jobs: list,
    loading: () => false,
    refresh: async () => undefined,
    create: async () => list()[0],
    cancel: async () => undefined,
    resume: async () => undefined,
    resuming: () => false,
    remove: async () => true,
    get: (jid) => list().find((j) => j.id === jid),
  };
  return { store, set: (j: Job) => setList([j]) };
}

beforeEach(() => localStorage.clear());

describe("accessible names", () => {
  it("the download settings button says it opens the settings, not just a format", () => {
    render(() => <ResultsPanel jobs={liveJobs([job()]).store} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    expect(screen.getByTestId("result-formats").getAttribute("aria-label")).toBe("Download settings: Alpha PNG");
    expect(screen.getByRole("button", { name: "Download settings: Alpha PNG" })).toBe(screen.getByTestId("result-formats"));
  });

  describe("toasts", () => {
    afterEach(() => toasts().forEach((t) => dismiss(t.id)));
    it("each close button is named after its own message", () => {
      render(() => <Toasts />);
      notify("error", "the disk is full", "Upload failed", 0);
      notify("info", "Saved", undefined, 0);
      const names = screen.getAllByRole("button").map((b) => b.getAttribute("aria-label"));
      expect(names).toEqual(["Dismiss: Upload failed", "Dismiss: Saved"]);
    });
  });

  it("each object's point count says it counts points", () => {
    const counts = new Map([
      [1, 12],
      [2, 1],
    ]);
    renderObjectList({ objects, pointCounts: counts });
    const shown = [...document.querySelectorAll(".count")].map((c) => c.textContent);
    expect(shown).toEqual(["12 points", "1 point"]); // the words visually hidden: the row shows the number
    const hidden = document.querySelector(".count .visually-hidden");
    expect(hidden?.textContent).toBe(" points");
  });

  it("a result's colour swatches name the objects it covers", () => {
    render(() => <ResultsPanel jobs={liveJobs([jobOf()]).store} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    expect(screen.getByRole("img", { name: "Objects: Dancer, Dog" }).querySelectorAll(".swatch")).toHaveLength(2);
  });

  it("each result's buttons say which result they act on, not \"Delete\" once per row", () => {
    const rows = [job({ id: "j1", status: "interrupted", frames_done: 4 }), job({ id: "j2", start: 10, end: 19, status: "running", frames_done: 2 }), job({ id: "j3", start: 0, end: 9, created_at: "2026-11-30T09:30:00Z" })];
    render(() => <ResultsPanel jobs={liveJobs(rows).store} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    const names = (testid: string) => screen.queryAllByTestId(testid).map((b) => b.getAttribute("aria-label"));
    const at = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
    const [first, second, third] = rows.map((j) => `the result of frames ${j.start}–${j.end}, made ${at(j.created_at)}`);
    expect(names("result-delete")).toEqual([`Delete ${first}`, `Delete ${second}`, `Delete ${third}`]);
    expect(names("result-resume")).toEqual([`Resume ${first}`]);
    expect(names("result-cancel")).toEqual([`Cancel ${second}`]);
    expect(names("result-view")).toEqual([`View ${first}`, `View ${second}`, `View ${third}`]); // unfinished ones show their frames made
    expect(new Set(names("result-delete")).size).toBe(3); // two runs of the same frames told apart
  });

  it("a result being deleted says so in its button's name, then the panel says it is gone and the keyboard goes to the next row", async () => {
    let answer: (ok: boolean) => void = () => {};
    const jobs = liveJobs([job({ id: "j1" }), job({ id: "j2", start: 10, end: 19 })]);
    const all = jobs.store.jobs;
    const [list, setList] = createSignal<Job[] | null>(null);
    const store: JobsStore = {
      ...jobs.store,
      jobs: () => list() ?? all(),
      remove: (jid) => new Promise<boolean>((r) => (answer = (ok) => (ok && setList(all().filter((j) => j.id !== jid)), r(ok)))),
    };
    render(() => (
      <>
        <ConfirmHost />
        <ResultsPanel jobs={store} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />
      </>
    ));
    const del = screen.getAllByTestId("result-delete")[0];
    del.focus();
    fireEvent.click(del);
    fireEvent.click(await screen.findByTestId("confirm-ok"));
    await vi.waitFor(() => expect(del.getAttribute("aria-label")).toMatch(/^Deleting the result of frames 0–9, made /));
    expect(screen.getByTestId("results-said").textContent).toBe("");
    del.focus(); // back from the question
    answer(true);
    await vi.waitFor(() => expect(screen.getByTestId("results-said").textContent).toMatch(/^Deleted the result of frames 0–9, made .+\.$/));
    expect(screen.getByTestId("results-said").getAttribute("role")).toBe("status");
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("result-view")));
  });

  it("deleting the last result leaves the keyboard in the panel, on its Reload", async () => {
    const jobs = liveJobs([job()]);
    const [left, setLeft] = createSignal(true);
    const store: JobsStore = { ...jobs.store, jobs: () => (left() ? jobs.store.jobs() : []), remove: async () => (setLeft(false), true) };
    render(() => (
      <>
        <ConfirmHost />
        <ResultsPanel jobs={store} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />
      </>
    ));
    const del = screen.getByTestId("result-delete");
    fireEvent.click(del);
    fireEvent.click(await screen.findByTestId("confirm-ok"));
    del.focus(); // back from the question
    await vi.waitFor(() => expect(del.isConnected).toBe(false));
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByRole("button", { name: "Reload results" })));
  });

  it("the empty project list's drop area is a button the keyboard reaches", () => {
    render(() => <ProjectsPanel projects={[]} loading={false} selectedId={null} onSelect={() => {}} onChanged={() => {}} onDeleted={() => {}} />);
    const area = screen.getByRole("button", { name: /Drop a video here or click to choose a file/ });
    expect(area.tagName).toBe("BUTTON");
    expect(area.getAttribute("type")).toBe("button");
    let chosen = 0;
    screen.getByTestId("upload-input").addEventListener("click", (e) => (e.preventDefault(), chosen++));
    fireEvent.click(area); // Enter or Space on a button
    expect(chosen).toBe(1);
  });
});

describe("looks", () => {
  it("a result's Deleting… button (aria-disabled, kept focusable) looks and hovers as a disabled button does", () => {
    // jsdom applies no style sheet: the rules are what makes it look so.
    const css = readFileSync(join(__dirname, "../styles.css"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const rules = [...css.matchAll(/([^{}]+)\{([^{}]*)\}/g)].map((m) => ({ selectors: m[1].split(",").map((x) => x.trim()), body: m[2] }));
    const dimmed = rules.find((r) => r.selectors.includes(".btn:disabled"));
    expect(dimmed?.selectors).toContain('.btn[aria-disabled="true"]');
    const hovers = rules.filter((r) => r.selectors.some((x) => x.startsWith(".btn") && x.includes(":hover"))).flatMap((r) => r.selectors);
    expect(hovers.length).toBeGreaterThan(0);
    expect(hovers.filter((x) => !x.includes(':not([aria-disabled="true"])'))).toEqual([]);
  });
});

describe("focus kept when its control goes", () => {
  it.each([
    { control: "Cancel", from: { status: "running", frames_done: 3 }, to: { status: "cancelled", frames_done: 3 }, next: "View" },
    { control: "Resume", from: { status: "interrupted", frames_done: 0 }, to: { status: "queued", frames_done: 0 }, next: "Cancel" },
  ] as const)("a result's $control hands the keyboard to its row's $next once the job is $to.status", async ({ control, from, to, next }) => {
    const jobs = liveJobs([job(from)]);
    render(() => <ResultsPanel jobs={jobs.store} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    const pressed = screen.getByTestId(`result-${control.toLowerCase()}`);
    pressed.focus();
    jobs.set(job(to));
    expect(pressed.isConnected).toBe(false);
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByTestId(`result-${next.toLowerCase()}`)));
  });

  it("leaves the focus alone when it had already gone elsewhere", async () => {
    const jobs = liveJobs([job({ status: "running", frames_done: 3 })]);
    render(() => (
      <>
        <button data-testid="elsewhere">x</button>
        <ResultsPanel jobs={jobs.store} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />
      </>
    ));
    screen.getByTestId("result-cancel").focus();
    screen.getByTestId("elsewhere").focus();
    jobs.set(job({ status: "cancelled", frames_done: 3 }));
    await Promise.resolve(); // the observer's turn
    expect(document.activeElement).toBe(screen.getByTestId("elsewhere"));
  });

  it("does not pull the focus back after a press on the page's background", async () => {
    const jobs = liveJobs([job({ status: "running", frames_done: 3 })]);
    render(() => <ResultsPanel jobs={jobs.store} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    const cancel = screen.getByTestId("result-cancel");
    cancel.focus();
    fireEvent.pointerDown(document.body);
    cancel.blur(); // the press takes the focus to <body>
    jobs.set(job({ status: "cancelled", frames_done: 3 }));
    await Promise.resolve(); // the observer's turn
    expect(document.activeElement).toBe(document.body);
  });

  describe("Matting dialog", () => {
    const project = { id: "p", name: "Beach take", video: { frame_count: 100 } } as Project;
    const points = fromFramePoints([{ object_id: 1, frame: 2, points: [{ x: 5, y: 5, label: "positive" }] }]);

    it("a successful Run puts the keyboard on a control of the job's view, not on the dialog box", async () => {
      const jobs = liveJobs([job({ status: "queued", frames_done: 0 })]);
      render(() => <MattingDialog project={project} objects={objects} points={points} jobs={jobs.store} onClose={() => {}} onView={() => {}} />);
      fireEvent.click(screen.getByTestId("matting-run"));
      await screen.findByTestId("job-view");
      expect(document.activeElement).toBe(screen.getByTestId("matting-close")); // "Run in background": safe on Enter
    });

    it("says its result was deleted elsewhere through a live region that was there before, which a screen reader hears change", async () => {
      const jobs = liveJobs([job({ status: "running", frames_done: 3 })]);
      const all = jobs.store.jobs;
      const [gone, setGone] = createSignal(false);
      const store: JobsStore = { ...jobs.store, jobs: () => (gone() ? [] : all()), get: (jid) => (gone() ? undefined : jobs.store.get(jid)) };
      render(() => <MattingDialog project={project} objects={objects} points={points} jobs={store} onClose={() => {}} onView={() => {}} />);
      fireEvent.click(screen.getByTestId("matting-run"));
      await screen.findByTestId("job-view");
      const region = screen.getByTestId("matting-said"); // in the page before the news, as live regions must be
      expect([region.getAttribute("role"), region.textContent]).toEqual(["status", ""]);
      setGone(true); // a read of the list has it no more
      expect(screen.getByTestId("matting-said")).toBe(region);
      expect(region.textContent).toBe("This result was deleted, in another tab or window.");
      expect(screen.getByTestId("job-gone").getAttribute("role")).toBeNull(); // said once, not twice
    });

    it("its Cancel hands the keyboard to View result when the job ends done, else to Close", async () => {
      const jobs = liveJobs([job({ status: "running", frames_done: 3 })]);
      const { unmount } = render(() => <MattingDialog project={project} objects={objects} points={points} jobs={jobs.store} onClose={() => {}} onView={() => {}} />);
      fireEvent.click(screen.getByTestId("matting-run"));
      (await screen.findByTestId("job-cancel")).focus();
      jobs.set(job({ status: "done" }));
      await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("job-view-result")));
      unmount();

      const again = liveJobs([job({ status: "running", frames_done: 3 })]);
      render(() => <MattingDialog project={project} objects={objects} points={points} jobs={again.store} onClose={() => {}} onView={() => {}} />);
      fireEvent.click(screen.getByTestId("matting-run"));
      (await screen.findByTestId("job-cancel")).focus();
      again.set(job({ status: "cancelled", frames_done: 3 }));
      await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("matting-close")));
    });
  });
});
