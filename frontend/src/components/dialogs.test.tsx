// Dialogs and the results panel as a new user meets them: focus stays in open dialogs, a
// confirmation starts on its safe button, downloads speak in format names people know, and
// each result keeps its own export choice.
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRoot, createSignal } from "solid-js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type Job, type MatteObject, type Project } from "../api";
import { composeInto } from "../compose";
import { confirmAction, pendingConfirm } from "../confirm";
import { DEFAULT_EXPORT, exportChoice, formatLabels, saveExportChoice } from "../exportChoice";
import { useFocusTrap } from "../focusTrap";
import { createJobsStore, type JobsStore } from "../jobs";
import { fromFramePoints } from "../points";
import { createResultCompose } from "../resultView";
import { FakeEventSource } from "../test/eventSource";
import { job, objects } from "../test/jobs";
import { ConfirmHost } from "./ConfirmHost";
import { MattingDialog } from "./MattingDialog";
import { MattingForm } from "./MattingForm";
import { ResultsPanel } from "./ResultsPanel";
import { ShortcutsHelp } from "./ShortcutsHelp";

/** The panel's view of a project's jobs: a fixed list (the live list is jobs.ts, over SSE). */
function jobsOf(list: Job[]): JobsStore {
  return {
    jobs: () => list,
    loading: () => false,
    refresh: async () => undefined,
    create: async () => list[0],
    cancel: async () => undefined,
    resume: async () => undefined,
    resuming: () => false,
    remove: async () => true,
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
  it("is not cancelled by an Escape that belongs to an input method's composition", async () => {
    render(() => <ConfirmHost />);
    const answer = confirmAction({ title: "Delete project?", message: "gone for good", confirmLabel: "Delete", danger: true });
    await screen.findByTestId("confirm-dialog");
    fireEvent.keyDown(document.activeElement!, { key: "Escape", isComposing: true });
    expect(screen.queryByTestId("confirm-dialog")).not.toBeNull();
    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
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
    const chosen = { formats: ["exr", "prores4444"], background: "112233", fg: "raw" as const, mattes: "both" as const, shift_edge: 2, feather: 0, reduce_chatter: true };
    render(() => <ResultsPanel jobs={jobsOf([job({ export: chosen })])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    expect(screen.getByTestId("result-formats").textContent).toBe("2 formats ▾");
    expect(screen.getByTestId("result-download").getAttribute("href")).toBe(
      "/api/jobs/j1/archive?formats=exr%2Cprores4444&background=112233&fg=raw&mattes=both&shift_edge=2&reduce_chatter=true",
    );
  });

  it("names formats in words and keeps each result's own choice", () => {
    saveExportChoice({ ...DEFAULT_EXPORT, formats: ["exr", "prores4444"], background: "123456" }, "other-job"); // typed last, for another job
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

  it("shows its settings as a disclosure, not a menu, and Escape inside them hands the focus back to its button", () => {
    render(() => <ResultsPanel jobs={jobsOf([job()])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    const button = screen.getByTestId("result-formats");
    expect(button.hasAttribute("aria-haspopup")).toBe(false); // no menu of commands opens
    expect(button.getAttribute("aria-expanded")).toBe("false");
    fireEvent.click(button);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    const panel = screen.getByTestId("format-menu");
    expect(button.getAttribute("aria-controls")).toBe(panel.id);
    expect(panel.id).not.toBe("");
    const field = screen.getAllByTestId("result-format")[1];
    field.focus();
    fireEvent.keyDown(field, { key: "Escape", isComposing: true }); // an input method's: stays open
    expect(screen.queryByTestId("format-menu")).not.toBeNull();
    fireEvent.keyDown(field, { key: "Escape" });
    expect(screen.queryByTestId("format-menu")).toBeNull();
    expect(button.getAttribute("aria-expanded")).toBe("false");
    expect(document.activeElement).toBe(button);
  });

  it("leaves Escape to a dialog opened over its open settings", async () => {
    render(() => (
      <>
        <ResultsPanel jobs={jobsOf([job()])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />
        <ConfirmHost />
      </>
    ));
    fireEvent.click(screen.getByTestId("result-formats"));
    const answer = confirmAction({ title: "Delete project?", message: "gone for good", confirmLabel: "Delete", danger: true });
    await screen.findByTestId("confirm-dialog");
    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    await expect(answer).resolves.toBe(false); // the dialog closed, not the settings behind it
    expect(screen.queryByTestId("format-menu")).not.toBeNull();
  });

  it("shifts and feathers the edge of what is downloaded, kept with the job's choice", () => {
    render(() => <ResultsPanel jobs={jobsOf([job()])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    fireEvent.click(screen.getByTestId("result-formats"));
    const shift = screen.getByLabelText("Shift edge (px)") as HTMLInputElement;
    const feather = screen.getByLabelText("Feather (px)") as HTMLInputElement;
    expect([shift.value, shift.min, shift.max, shift.step]).toEqual(["0", "-32", "32", "0.5"]);
    expect([feather.value, feather.min, feather.max, feather.step]).toEqual(["0", "0", "32", "0.5"]);
    fireEvent.change(shift, { target: { value: "-2.5" } });
    fireEvent.change(feather, { target: { value: "1.5" } });
    expect(screen.getByTestId("result-download").getAttribute("href")).toBe(
      "/api/jobs/j1/archive?formats=alpha_png&background=00ff00&shift_edge=-2.5&feather=1.5",
    );
    expect(exportChoice({ id: "j1" })).toMatchObject({ shiftEdge: -2.5, feather: 1.5 });
    expect(screen.getByTestId("result-download").getAttribute("title")).toBe("ZIP with Alpha PNG sequence; edge shifted -2.5 px, feathered 1.5 px");
    // past the bounds the server takes: the nearest it takes, shown as such
    fireEvent.change(shift, { target: { value: "40" } });
    expect(shift.value).toBe("32");
    fireEvent.change(shift, { target: { value: "40" } }); // again: still shown as what is kept
    expect(shift.value).toBe("32");
    fireEvent.change(feather, { target: { value: "" } });
    expect([exportChoice({ id: "j1" }).shiftEdge, exportChoice({ id: "j1" }).feather, feather.value]).toEqual([32, 0, "0"]);
  });

  it("downloads part of a result's frames, within its range, kept with the job's choice", () => {
    render(() => <ResultsPanel jobs={jobsOf([job({ start: 2, end: 11 })])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    fireEvent.click(screen.getByTestId("result-formats"));
    const first = screen.getByLabelText("First") as HTMLInputElement;
    const last = screen.getByLabelText("Last") as HTMLInputElement;
    expect([first.value, first.min, first.max, last.value]).toEqual(["2", "2", "11", "11"]);
    const download = screen.getByTestId("result-download");
    fireEvent.change(first, { target: { value: "4" } });
    fireEvent.change(last, { target: { value: "6" } });
    expect(download.getAttribute("href")).toBe("/api/jobs/j1/archive?formats=alpha_png&background=00ff00&start=4&end=6");
    expect(download.getAttribute("title")).toBe("ZIP of frames 4–6, with Alpha PNG sequence");
    expect(exportChoice({ id: "j1", start: 2, end: 11 }).part).toEqual({ start: 4, end: 6 });
    // past the job's range: its end, shown as kept; a first frame past the last takes it along
    fireEvent.change(last, { target: { value: "40" } });
    expect([last.value, download.getAttribute("href")?.endsWith("start=4&end=11")]).toEqual(["11", true]);
    fireEvent.change(first, { target: { value: "11" } });
    fireEvent.change(last, { target: { value: "9" } });
    expect([first.value, last.value]).toEqual(["9", "9"]);
    expect(download.getAttribute("href")?.endsWith("start=9&end=9")).toBe(true);
    // the whole range again: the plain archive, as before any part was chosen
    fireEvent.change(first, { target: { value: "2" } });
    fireEvent.change(last, { target: { value: "11" } });
    expect(download.getAttribute("href")).toBe("/api/jobs/j1/archive?formats=alpha_png&background=00ff00");
    expect(exportChoice({ id: "j1", start: 2, end: 11 }).part).toBeNull();
  });

  it("takes the part downloaded from the editor's In/Out marks, within the result's frames", () => {
    const [marks, setMarks] = createSignal<{ in: number | null; out: number | null }>({ in: null, out: null });
    render(() => <ResultsPanel jobs={jobsOf([job({ start: 2, end: 11 })])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} inout={marks()} />);
    fireEvent.click(screen.getByTestId("result-formats"));
    const inout = screen.getByTestId("part-inout") as HTMLButtonElement;
    const download = screen.getByTestId("result-download");
    expect(inout.disabled).toBe(true); // no marks yet
    setMarks({ in: 5, out: 7 });
    fireEvent.click(inout);
    expect(download.getAttribute("href")?.endsWith("start=5&end=7")).toBe(true);
    expect([(screen.getByLabelText("First") as HTMLInputElement).value, (screen.getByLabelText("Last") as HTMLInputElement).value]).toEqual(["5", "7"]);
    setMarks({ in: 0, out: 3 }); // partly before the result: the part it has
    fireEvent.click(inout);
    expect(download.getAttribute("href")?.endsWith("start=2&end=3")).toBe(true);
    setMarks({ in: 9, out: null }); // a lone In: to the result's last frame
    fireEvent.click(inout);
    expect(download.getAttribute("href")?.endsWith("start=9&end=11")).toBe(true);
    setMarks({ in: 20, out: 30 }); // outside it: nothing to take
    expect([inout.disabled, inout.title]).toEqual([true, "The In/Out marks lie outside this result's frames"]);
  });

  it("reduces chatter in what is downloaded when checked, kept with the job's choice", () => {
    render(() => <ResultsPanel jobs={jobsOf([job()])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    fireEvent.click(screen.getByTestId("result-formats"));
    const calm = screen.getByLabelText("Reduce chatter (median of 3 frames)") as HTMLInputElement;
    expect(calm.checked).toBe(false);
    expect(screen.getByTestId("edge-choice").contains(calm)).toBe(true);
    const download = screen.getByTestId("result-download");
    expect(download.getAttribute("href")).toBe("/api/jobs/j1/archive?formats=alpha_png&background=00ff00");
    fireEvent.click(calm);
    expect(download.getAttribute("href")).toBe("/api/jobs/j1/archive?formats=alpha_png&background=00ff00&reduce_chatter=true");
    expect(exportChoice({ id: "j1" })).toMatchObject({ reduceChatter: true, shiftEdge: 0 });
    fireEvent.change(screen.getByLabelText("Feather (px)"), { target: { value: "2" } });
    expect(download.getAttribute("title")).toBe("ZIP with Alpha PNG sequence; chatter reduced, feathered 2 px");
    fireEvent.click(calm);
    expect([calm.checked, exportChoice({ id: "j1" }).reduceChatter]).toEqual([false, false]);
    expect(download.getAttribute("href")).toBe("/api/jobs/j1/archive?formats=alpha_png&background=00ff00&feather=2");
  });

  it("names a result's objects (menu and swatches) as its archive does: as they were called when it was made", () => {
    // Since it was made, "first" was renamed "Dancer" and "second" deleted; object 3 has no
    // recorded name (deleted before an upgrade recorded them), and shows today's.
    const today: MatteObject[] = [objects[0], { id: 3, project_id: "p", name: "Cat", color: "#00ff00" }];
    const made = job({ object_ids: [1, 2, 3], object_names: { "1": "first", "2": "second" } });
    render(() => <ResultsPanel jobs={jobsOf([made])} objects={today} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    fireEvent.click(screen.getByTestId("result-formats"));
    expect(screen.getByTestId("format-menu").querySelector("legend")!.textContent).toBe("Mattes of first, second, Cat");
    const swatches = [...screen.getByTestId("result-item").querySelectorAll(".swatch")];
    expect(swatches.map((s) => s.getAttribute("title"))).toEqual(["first", "second", "Cat"]);
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

  it("says a result's error as the editor does: objects by their names, no job ids", () => {
    const error = "object 2 has no points in frames 0..9 any more (job 'j_4f9a2c0b1d3e' stopped at frame 4)";
    render(() => <ResultsPanel jobs={jobsOf([job({ status: "failed", frames_done: 4, error })])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    const shown = screen.getByTestId("result-item").querySelector(".error-text")!;
    const said = '"Dog" has no points in frames 0..9 any more (the job stopped at frame 4)';
    expect(shown.textContent).toBe(said);
    expect(shown.getAttribute("title")).toBe(said);
  });

  it("keeps a running result's download menu open, and the focus in it, as its progress comes in", () => {
    // Every progress event (and every re-read of the list) brings the job as a new object.
    const [list, setList] = createSignal([job({ status: "running", frames_done: 3 })]);
    const live: JobsStore = { ...jobsOf([]), jobs: list, get: (jid) => list().find((j) => j.id === jid) };
    render(() => <ResultsPanel jobs={live} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    fireEvent.click(screen.getByTestId("result-formats"));
    const shift = screen.getByLabelText("Shift edge (px)") as HTMLInputElement;
    shift.focus();
    setList([job({ status: "running", frames_done: 4 })]);
    expect(screen.queryByTestId("format-menu")).not.toBeNull();
    expect(document.activeElement).toBe(shift);
    expect(screen.getByTestId("result-download").getAttribute("title")).toBe("ZIP of the 4 frames finished so far (of 10), with Alpha PNG sequence");
    setList([job({ status: "done", frames_done: 10 })]);
    expect(screen.queryByTestId("format-menu")).not.toBeNull();
    expect(screen.getByTestId("result-item").dataset.status).toBe("done");
    expect(screen.queryByTestId("result-progress")).toBeNull();
    setList([]); // gone from a list read again (its project deleted elsewhere): its row goes
    expect(screen.queryByTestId("result-item")).toBeNull();
  });

  it("a finished result's download says nothing about frames", () => {
    render(() => <ResultsPanel jobs={jobsOf([job()])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    expect(screen.getByTestId("result-download").getAttribute("title")).toBe("ZIP with Alpha PNG sequence");
  });

  it("labels formats as people know them", () => {
    expect(formatLabels(["alpha_png", "rgba_png", "webm_alpha"])).toEqual(["Alpha PNG sequence", "RGBA PNG sequence", "WebM (VP9 + alpha)"]);
  });
});

describe("a new Matting job's export", () => {
  const project: Project = {
    id: "p",
    name: "Beach take",
    filename: "beach.mp4",
    created_at: "",
    video: { width: 640, height: 360, fps: 25, frame_count: 100, duration: 4, rotation: 0, codec: "h264", has_audio: false, pixel_aspect: 1 },
    has_track: false,
  };
  const points = fromFramePoints([{ object_id: 1, frame: 2, points: [{ x: 5, y: 5, label: "positive" }] }]);

  /** Runs the Matting dialog as it opens and returns the export the new job was asked for. */
  async function runDialog() {
    const asked: Parameters<JobsStore["create"]>[0][] = [];
    const jobs: JobsStore = { ...jobsOf([]), create: async (body) => (asked.push(body), job({ id: "j2", status: "queued", export: body.export })) };
    const { unmount } = render(() => <MattingDialog project={project} objects={objects} points={points} jobs={jobs} onClose={() => {}} onView={() => {}} />);
    const shown = screen.getAllByTestId("matting-format").filter((b) => (b as HTMLInputElement).checked).map((b) => b.dataset.format);
    fireEvent.click(screen.getByTestId("matting-run"));
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    unmount();
    return { shown, export: asked[0].export };
  }

  it("is what its dialog shows: an old result's raw colour and mattes stay with that result", async () => {
    const { unmount } = render(() => <ResultsPanel jobs={jobsOf([job()])} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
    fireEvent.click(screen.getByTestId("result-formats"));
    fireEvent.click(screen.getAllByTestId("result-format").find((b) => b.dataset.format === "prores4444")!);
    fireEvent.click(screen.getByTestId("raw-colour"));
    fireEvent.click(screen.getAllByTestId("mattes-option").find((b) => (b as HTMLInputElement).value === "both")!);
    fireEvent.change(screen.getByLabelText("Shift edge (px)"), { target: { value: "3" } });
    fireEvent.click(screen.getByTestId("reduce-chatter"));
    unmount();

    // Formats and colour are on the dialog, so the last ones picked anywhere start it; raw
    // colour, mattes and the edge are not, so the new job takes the defaults, not a choice it hides.
    const run = await runDialog();
    expect(run.shown).toEqual(["alpha_png", "prores4444"]);
    expect(run.export).toEqual({ formats: ["alpha_png", "prores4444"], background: "00ff00", fg: null, mattes: "objects", shift_edge: 0, feather: 0, reduce_chatter: false });
    expect(exportChoice({ id: "j1" })).toMatchObject({ rawColour: true, mattes: "both", shiftEdge: 3, reduceChatter: true }); // the old result keeps them
    expect(exportChoice({ id: "j2" })).toMatchObject({ rawColour: false, mattes: "objects", shiftEdge: 0, reduceChatter: false });
  });

  it("a refusal names objects as the list does, not by their ids", async () => {
    const refused = new ApiError(422, "object 2 has no points in frames 0..99: click it on a frame first");
    const jobs: JobsStore = { ...jobsOf([]), create: () => Promise.reject(refused) };
    render(() => <MattingDialog project={project} objects={objects} points={points} jobs={jobs} onClose={() => {}} onView={() => {}} />);
    fireEvent.click(screen.getByTestId("matting-run"));
    const shown = await screen.findByTestId("error-message");
    expect(shown.textContent).toBe('Could not start matting: "Dog" has no points in frames 0..99: click it on a frame first');
  });

  it("keeps its Close button in view however long the project's name: the name gives way, whole in its tooltip", () => {
    const name = "x".repeat(400); // no space to wrap at
    render(() => <MattingDialog project={{ ...project, name }} objects={objects} points={points} jobs={jobsOf([])} onClose={() => {}} onView={() => {}} />);
    const shown = screen.getByTestId("matting-dialog").querySelector(".modal-head .modal-name")!;
    expect(shown.textContent).toBe(name);
    expect(shown.getAttribute("title")).toBe(name);
    // jsdom lays nothing out: the rule is what makes the name shrink (min-width: 0) and end in "…".
    const styles = readFileSync(join(__dirname, "../styles.css"), "utf8");
    const rule = /\.modal-head \.modal-name \{([^}]*)\}/.exec(styles)?.[1] ?? "";
    for (const decl of ["min-width: 0", "overflow: hidden", "white-space: nowrap", "text-overflow: ellipsis"]) expect(rule).toContain(decl);
  });

  it("keeps the keyboard in the dialog on New run: the new form's first field takes the focus", async () => {
    const jobs: JobsStore = { ...jobsOf([job({ id: "j2", status: "queued" })]), create: async () => job({ id: "j2", status: "queued" }) };
    render(() => <MattingDialog project={project} objects={objects} points={points} jobs={jobs} onClose={() => {}} onView={() => {}} />);
    fireEvent.click(screen.getByTestId("matting-run"));
    fireEvent.click(await screen.findByRole("button", { name: "New run" }));
    expect(screen.queryByTestId("job-view")).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId("matting-start"));
  });

  it("says when the job it shows was deleted in another tab or window, keeps the keyboard in the dialog, and offers a new run", async () => {
    const [list, setList] = createSignal<Job[]>([]);
    const made = job({ id: "j2", status: "running" });
    const jobs: JobsStore = { ...jobsOf([]), jobs: list, get: (jid) => list().find((j) => j.id === jid), create: async () => (setList([made]), made) };
    render(() => <MattingDialog project={project} objects={objects} points={points} jobs={jobs} onClose={() => {}} onView={() => {}} />);
    fireEvent.click(screen.getByTestId("matting-run"));
    await screen.findByTestId("job-view");
    screen.getByTestId("matting-close").focus();
    setList([]); // a read of the list has it no more
    expect(screen.getByTestId("job-gone").textContent).toBe("This result was deleted, in another tab or window.");
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("matting-close")));
    expect(screen.getByTestId("matting-close").textContent).toBe("Close");
    fireEvent.click(screen.getByTestId("job-new-run"));
    expect(document.activeElement).toBe(screen.getByTestId("matting-start"));
  });

  it("leaves out of the job an object whose DELETE is on its way, and says so", async () => {
    const both = fromFramePoints([
      { object_id: 1, frame: 2, points: [{ x: 5, y: 5, label: "positive" }] },
      { object_id: 2, frame: 3, points: [{ x: 5, y: 5, label: "positive" }] },
    ]);
    const asked: Parameters<JobsStore["create"]>[0][] = [];
    const jobs: JobsStore = { ...jobsOf([]), create: async (body) => (asked.push(body), job({ id: "j2", status: "queued" })) };
    render(() => <MattingDialog project={project} objects={objects} points={both} deleting={new Set([2])} jobs={jobs} onClose={() => {}} onView={() => {}} />);
    const skipped = screen.getAllByTestId("matting-object-skipped");
    expect(skipped.map((s) => [s.closest("label")!.textContent!.includes("Dog"), s.textContent])).toEqual([[true, "not in this job: being deleted"]]);
    expect(screen.getByTestId("matting-validation").textContent).toBe("Ready: 2 frames; left out (being deleted): Dog.");
    fireEvent.click(screen.getByTestId("matting-run"));
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    expect(asked[0].object_ids).toEqual([1]);
    expect([asked[0].start, asked[0].end]).toEqual([2, 3]);
  });

  it("cannot run while every chosen object is being deleted", () => {
    render(() => <MattingDialog project={project} objects={objects} points={points} deleting={new Set([1])} jobs={jobsOf([])} onClose={() => {}} onView={() => {}} />);
    expect(screen.getByTestId("matting-validation").textContent).toBe('⚠ "Dancer" is being deleted: choose another object.');
    expect(screen.getByTestId("matting-run")).toHaveProperty("disabled", true);
  });

  it("leaves out a raw colour an older editor kept as the last choice", async () => {
    localStorage.setItem("vidmatte.formats", JSON.stringify({ formats: ["exr"], background: "123456", rawColour: true, mattes: "union" }));
    const run = await runDialog();
    expect(run.shown).toEqual(["exr"]);
    expect(run.export).toEqual({ formats: ["exr"], background: "123456", fg: null, mattes: "objects", shift_edge: 0, feather: 0, reduce_chatter: false });
  });
});

describe("Resume", () => {
  afterEach(() => vi.unstubAllGlobals());

  /** A server whose job j1 stopped (interrupted) and whose resume answers only when `answer` is called. */
  function stoppedJobServer() {
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    const resumes: string[] = [];
    FakeEventSource.last = null; // the one a test before left
    vi.stubGlobal("EventSource", FakeEventSource);
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === "/api/projects/p/jobs" && init?.method === "POST") return new Response(JSON.stringify(job({ status: "queued", frames_done: 0 })));
        if (url === "/api/projects/p/jobs") return new Response(JSON.stringify([]));
        if (url === "/api/jobs/j1/resume") {
          resumes.push(url);
          await answered;
          return new Response(JSON.stringify(job({ status: "queued", frames_done: 4 })));
        }
        return new Response(JSON.stringify({ detail: "not here" }), { status: 404 });
      }),
    );
    return { resumes, answer };
  }

  const pressTwice = async (button: HTMLElement, server: { resumes: string[]; answer: () => void }) => {
    fireEvent.click(button);
    expect((button as HTMLButtonElement).disabled).toBe(true); // while the first is on its way
    fireEvent.click(button);
    server.answer();
    await vi.waitFor(() => expect(button.isConnected).toBe(false)); // queued again: no Resume to press
    expect(server.resumes).toHaveLength(1);
  };

  it("in the results can't be pressed again while it is on its way", async () => {
    const server = stoppedJobServer();
    await createRoot(async (dispose) => {
      const jobs = createJobsStore("p");
      await jobs.create({ start: 0, end: 9, object_ids: [1] });
      FakeEventSource.last!.emit(JSON.stringify(job({ status: "interrupted", frames_done: 4 })));
      const { unmount } = render(() => <ResultsPanel jobs={jobs} objects={objects} activeJobId={null} mode="off" onActivate={() => {}} onMode={() => {}} />);
      await pressTwice(screen.getByTestId("result-resume"), server);
      unmount();
      dispose();
    });
  });

  it("in the Matting dialog can't be pressed again while it is on its way", async () => {
    const server = stoppedJobServer();
    await createRoot(async (dispose) => {
      const jobs = createJobsStore("p");
      const points = fromFramePoints([{ object_id: 1, frame: 2, points: [{ x: 5, y: 5, label: "positive" }] }]);
      const project = { id: "p", name: "Beach take", video: { frame_count: 100 } } as Project;
      const { unmount } = render(() => <MattingDialog project={project} objects={objects} points={points} jobs={jobs} onClose={() => {}} onView={() => {}} />);
      fireEvent.click(screen.getByTestId("matting-run"));
      await vi.waitFor(() => expect(FakeEventSource.last?.url).toContain("/api/jobs/j1/"));
      FakeEventSource.last!.emit(JSON.stringify(job({ status: "interrupted", frames_done: 4 })));
      await pressTwice(await screen.findByTestId("job-resume"), server);
      unmount();
      dispose();
    });
  });
});

describe("green-screen view", () => {
  it("uses the composite colour chosen for the job's export", () => {
    saveExportChoice({ ...DEFAULT_EXPORT, formats: ["composite_mp4"], background: "ff00ff" }, "j1");
    createRoot((dispose) => {
      const [frame] = createSignal(0);
      const compose = createResultCompose({ job: () => job({ object_ids: [2] }), frame, objects: () => objects, mode: () => "green" });
      expect(compose.options(0)).toMatchObject({ background: "#ff00ff", tint: "#3ba4ff" });
      saveExportChoice({ ...DEFAULT_EXPORT, formats: ["composite_mp4"], background: "0000ff" }, "j1"); // changed in the download menu
      expect(compose.options(0).background).toBe("#0000ff");
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
