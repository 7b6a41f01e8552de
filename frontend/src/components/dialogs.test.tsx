// Dialogs and the results panel as a new user meets them: focus stays in open dialogs, a
// confirmation starts on its safe button, downloads speak in format names people know, and
// each result keeps its own export choice.
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createRoot, createSignal } from "solid-js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Job, MatteObject } from "../api";
import { composeInto } from "../compose";
import { confirmAction, pendingConfirm } from "../confirm";
import { exportChoice, formatLabels, saveExportChoice } from "../exportChoice";
import { useFocusTrap } from "../focusTrap";
import type { JobsStore } from "../jobs";
import { fromFramePoints } from "../points";
import { createResultCompose } from "../resultView";
import { ConfirmHost } from "./ConfirmHost";
import { MattingForm } from "./MattingForm";
import { ResultsPanel } from "./ResultsPanel";
import { ShortcutsHelp } from "./ShortcutsHelp";

const objects: MatteObject[] = [
  { id: 1, project_id: "p", name: "Dancer", color: "#ff5a5f" },
  { id: 2, project_id: "p", name: "Dog", color: "#3ba4ff" },
];

function job(over: Partial<Job> = {}): Job {
  return {
    id: "j1",
    project_id: "p",
    status: "done",
    start: 0,
    end: 9,
    object_ids: [1, 2],
    frames_done: 10,
    frames_total: 10,
    fps: 2,
    eta_seconds: null,
    error: null,
    created_at: "2026-11-30T08:00:00Z",
    updated_at: "2026-11-30T08:00:00Z",
    ...over,
  };
}

/** The panel's view of a project's jobs: a fixed list (the live list is jobs.ts, over SSE). */
function jobsOf(list: Job[]): JobsStore {
  return {
    jobs: () => list,
    loading: () => false,
    refresh: async () => undefined,
    create: async () => list[0],
    cancel: async () => undefined,
    resume: async () => undefined,
    get: (jid) => list.find((j) => j.id === jid),
  };
}

const tab = (shift = false) => fireEvent.keyDown(document.activeElement ?? document.body, { key: "Tab", shiftKey: shift });

beforeEach(() => localStorage.clear());

describe("focus trap", () => {
  function Trapped() {
    let root!: HTMLDivElement;
    useFocusTrap(() => root);
    return (
      <div ref={root}>
        <button data-testid="a">a</button>
        <input data-testid="b" />
        <button data-testid="c">c</button>
      </div>
    );
  }

  it("focuses the first control and wraps Tab and Shift+Tab at the ends", () => {
    const outside = document.createElement("button");
    document.body.append(outside);
    outside.focus();
    const { unmount } = render(() => <Trapped />);
    expect(document.activeElement).toBe(screen.getByTestId("a"));
    screen.getByTestId("c").focus();
    tab();
    expect(document.activeElement).toBe(screen.getByTestId("a"));
    tab(true);
    expect(document.activeElement).toBe(screen.getByTestId("c"));
    outside.focus(); // e.g. a click behind the backdrop: focus comes back
    expect(document.activeElement).toBe(screen.getByTestId("a"));
    unmount();
    expect(document.activeElement).toBe(outside); // closing returns focus where it was
    outside.remove();
  });

  it("keeps the keyboard in the shortcuts help", () => {
    render(() => <ShortcutsHelp onClose={() => {}} />);
    const close = screen.getByTestId("shortcuts-close");
    expect(document.activeElement).toBe(close);
    tab();
    expect(document.activeElement).toBe(close);
    tab(true);
    expect(document.activeElement).toBe(close);
  });
});

describe("confirmation", () => {
  afterEach(() => pendingConfirm()?.resolve(false));

  it("starts on Cancel, so Enter does not delete", async () => {
    render(() => <ConfirmHost />);
    const answer = confirmAction({ title: "Delete project?", message: "gone for good", confirmLabel: "Delete", danger: true });
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(document.activeElement).toBe(screen.getByTestId("confirm-cancel"));
    screen.getByTestId("confirm-ok").focus();
    tab(); // the last control: Tab wraps to Cancel, never out of the dialog
    expect(document.activeElement).toBe(screen.getByTestId("confirm-cancel"));
    expect(dialog.contains(document.activeElement)).toBe(true);
    fireEvent.click(document.activeElement!);
    await expect(answer).resolves.toBe(false);
  });
});

describe("MattingForm", () => {
  it("lists the chosen objects that have no points in the range instead of dropping them silently", () => {
    const points = fromFramePoints([
      { object_id: 1, frame: 2, points: [{ x: 5, y: 5, label: "positive" }] },
      { object_id: 2, frame: 40, points: [{ x: 5, y: 5, label: "positive" }] },
    ]);
    const onRun = vi.fn();
    render(() => <MattingForm frameCount={100} objects={objects} points={points} initialFormats={["alpha_png"]} initialBackground="00ff00" onRun={onRun} onCancel={() => {}} />);
    // both have points: both start chosen, over the range 2..40
    fireEvent.input(screen.getByTestId("matting-end"), { target: { value: "10" } });
    const skipped = screen.getAllByTestId("matting-object-skipped");
    expect(skipped).toHaveLength(1);
    expect(skipped[0].closest("label")!.textContent).toContain("Dog");
    expect(skipped[0].textContent).toBe("not in this job: no points in range");
    expect(screen.getByTestId("matting-validation").textContent).toContain("left out (no points in range): Dog");
    fireEvent.click(screen.getByTestId("matting-run"));
    expect(onRun).toHaveBeenCalledWith(expect.objectContaining({ start: 2, end: 10, objectIds: [1] }));
  });
});

describe("results panel downloads", () => {
  it("offers a result made in another browser what was chosen with it (kept by the server)", () => {
    const chosen = { formats: ["exr", "prores4444"], background: "112233", fg: "raw" as const, mattes: "both" as const };
    render(() => <ResultsPanel jobs={jobsOf([job({ export: chosen })])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    expect(screen.getByTestId("result-formats").textContent).toBe("2 formats ▾");
    expect(screen.getByTestId("result-download").getAttribute("href")).toBe(
      "/api/jobs/j1/archive?formats=exr%2Cprores4444&background=112233&fg=raw&mattes=both",
    );
  });

  it("names formats in words and keeps each result's own choice", () => {
    saveExportChoice({ formats: ["exr", "prores4444"], background: "123456" }, "other-job"); // typed last, for another job
    render(() => <ResultsPanel jobs={jobsOf([job()])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    const formats = screen.getByTestId("result-formats");
    expect(formats.textContent).toBe("Alpha PNG ▾"); // this job's defaults, not the other job's
    expect(screen.getByTestId("result-download").getAttribute("href")).toBe("/api/jobs/j1/archive?formats=alpha_png&background=00ff00");

    fireEvent.click(formats);
    const menu = screen.getByTestId("format-menu");
    expect(menu.querySelector("legend")!.textContent).toBe("Mattes of Dancer, Dog");
    fireEvent.click(screen.getAllByTestId("result-format").find((b) => b.dataset.format === "prores4444")!);
    fireEvent.click(screen.getAllByTestId("mattes-option").find((b) => (b as HTMLInputElement).value === "both")!);
    fireEvent.input(screen.getByTestId("result-background"), { target: { value: "#ff00ff" } });
    expect(formats.textContent).toBe("2 formats ▾");
    expect(formats.getAttribute("title")).toBe("Formats: Alpha PNG sequence, ProRes 4444");
    expect(screen.getByTestId("result-download").getAttribute("href")).toBe(
      "/api/jobs/j1/archive?formats=alpha_png%2Cprores4444&background=ff00ff&mattes=both",
    );
    expect(exportChoice({ id: "j1" })).toMatchObject({ formats: ["alpha_png", "prores4444"], background: "ff00ff", mattes: "both" });
    expect(exportChoice({ id: "other-job" }).formats).toEqual(["exr", "prores4444"]);

    fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByTestId("format-menu")).toBeNull();
    fireEvent.click(formats);
    fireEvent.click(screen.getAllByTestId("result-format")[0]); // inside: stays open
    expect(screen.getByTestId("format-menu")).toBeTruthy();
    fireEvent.click(document.body);
    expect(screen.queryByTestId("format-menu")).toBeNull();
  });

  it("offers a stopped result with frames for viewing and download", () => {
    render(() => (
      <ResultsPanel jobs={jobsOf([job({ status: "cancelled", frames_done: 3 }), job({ id: "j2", status: "failed", frames_done: 0 })])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />
    ));
    expect(screen.getAllByTestId("result-view")).toHaveLength(1);
    const download = screen.getByTestId("result-download");
    // It holds the frames made so far, and says so before the zip does.
    expect(download.getAttribute("title")).toBe("ZIP of the 3 frames finished so far (of 10), with Alpha PNG sequence");
  });

  it("a finished result's download says nothing about frames", () => {
    render(() => <ResultsPanel jobs={jobsOf([job()])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    expect(screen.getByTestId("result-download").getAttribute("title")).toBe("ZIP with Alpha PNG sequence");
  });

  it("labels formats as people know them", () => {
    expect(formatLabels(["alpha_png", "rgba_png", "webm_alpha"])).toEqual(["Alpha PNG sequence", "RGBA PNG sequence", "WebM (VP9 + alpha)"]);
  });
});

describe("green-screen view", () => {
  it("uses the composite colour chosen for the job's export", () => {
    saveExportChoice({ formats: ["composite_mp4"], background: "ff00ff" }, "j1");
    createRoot((dispose) => {
      const [frame] = createSignal(0);
      const compose = createResultCompose({ job: () => job({ object_ids: [2] }), frame, objects: () => objects, mode: () => "green" });
      expect(compose()).toMatchObject({ background: "#ff00ff", tint: "#3ba4ff" });
      saveExportChoice({ formats: ["composite_mp4"], background: "0000ff" }, "j1"); // changed in the download menu
      expect(compose().background).toBe("#0000ff");
      dispose();
    });
  });

  it("fills behind the cut-out with that colour", () => {
    const fills: string[] = [];
    const ctx = {
      set fillStyle(v: string) {
        fills.push(v);
      },
      fillRect: () => undefined,
      drawImage: () => undefined,
    } as unknown as CanvasRenderingContext2D;
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null); // jsdom draws nothing
    const img = document.createElement("canvas");
    composeInto(ctx, "green", img, img, { x: 0, y: 0, width: 10, height: 10 }, { tint: "#3ba4ff", background: "#ff00ff" });
    expect(fills).toEqual(["#ff00ff"]);
  });
});
