import { fireEvent, render, screen } from "@solidjs/testing-library";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSignal } from "solid-js";
import type { Job, MatteObject } from "../api";
import { fromFramePoints } from "../points";
import { showError, dismiss, toasts } from "../toasts";
import { MattingForm } from "./MattingForm";
import { JobProgressBar } from "./ProgressBar";
import { Toasts } from "./Toasts";
import { Transport } from "./Transport";

const objects: MatteObject[] = [
  { id: 1, project_id: "p", name: "Dancer", color: "#ff5a5f" },
  { id: 2, project_id: "p", name: "Dog", color: "#3ba4ff" },
];
const points = fromFramePoints([
  { object_id: 1, frame: 12, points: [{ x: 5, y: 5, label: "positive" }] },
  { object_id: 1, frame: 30, points: [{ x: 5, y: 5, label: "negative" }] },
]);

describe("MattingForm", () => {
  it("defaults to the prompted range and the objects that hold points", () => {
    render(() => (
      <MattingForm frameCount={100} objects={objects} points={points} initialFormats={["alpha_png"]} initialBackground="00ff00" onRun={() => {}} onCancel={() => {}} />
    ));
    expect((screen.getByTestId("matting-start") as HTMLInputElement).value).toBe("12");
    expect((screen.getByTestId("matting-end") as HTMLInputElement).value).toBe("30");
    const boxes = screen.getAllByTestId("matting-object") as HTMLInputElement[];
    expect(boxes.map((b) => b.checked)).toEqual([true, false]);
    expect((screen.getByTestId("matting-run") as HTMLButtonElement).disabled).toBe(false);
  });

  it("starts from In..Out when any is set (a lone Out from frame 0)", () => {
    const { unmount } = render(() => (
      <MattingForm frameCount={100} objects={objects} points={points} inout={{ in: 20, out: 40 }} initialFormats={["alpha_png"]} initialBackground="00ff00" onRun={() => {}} onCancel={() => {}} />
    ));
    expect((screen.getByTestId("matting-start") as HTMLInputElement).value).toBe("20");
    expect((screen.getByTestId("matting-end") as HTMLInputElement).value).toBe("40");
    unmount();
    render(() => (
      <MattingForm frameCount={100} objects={objects} points={points} inout={{ in: null, out: 40 }} initialFormats={["alpha_png"]} initialBackground="00ff00" onRun={() => {}} onCancel={() => {}} />
    ));
    expect((screen.getByTestId("matting-start") as HTMLInputElement).value).toBe("0");
    expect((screen.getByTestId("matting-end") as HTMLInputElement).value).toBe("40");
  });

  it("offers In/Out beside the prompted range and the whole video, only when one is set", () => {
    const { unmount } = render(() => (
      <MattingForm frameCount={100} objects={objects} points={points} initialFormats={["alpha_png"]} initialBackground="00ff00" onRun={() => {}} onCancel={() => {}} />
    ));
    expect(screen.queryByTestId("matting-inout-range")).toBeNull();
    unmount();
    render(() => (
      <MattingForm frameCount={100} objects={objects} points={points} inout={{ in: 20, out: null }} initialFormats={["alpha_png"]} initialBackground="00ff00" onRun={() => {}} onCancel={() => {}} />
    ));
    fireEvent.click(screen.getByTestId("matting-whole-video"));
    expect((screen.getByTestId("matting-start") as HTMLInputElement).value).toBe("0");
    const button = screen.getByRole("button", { name: "In/Out" });
    fireEvent.click(button);
    expect((screen.getByTestId("matting-start") as HTMLInputElement).value).toBe("20");
    expect((screen.getByTestId("matting-end") as HTMLInputElement).value).toBe("99"); // a lone In: to the end
  });

  it("shows why it cannot run and blocks the run button", async () => {
    const onRun = vi.fn();
    render(() => (
      <MattingForm frameCount={100} objects={objects} points={points} initialFormats={["alpha_png"]} initialBackground="00ff00" onRun={onRun} onCancel={() => {}} />
    ));
    fireEvent.input(screen.getByTestId("matting-end"), { target: { value: "100" } });
    expect(screen.getByTestId("matting-validation").textContent).toMatch(/last frame is 99/);
    expect((screen.getByTestId("matting-run") as HTMLButtonElement).disabled).toBe(true);

    fireEvent.input(screen.getByTestId("matting-end"), { target: { value: "20" } });
    fireEvent.input(screen.getByTestId("matting-start"), { target: { value: "13" } });
    expect(screen.getByTestId("matting-validation").textContent).toMatch(/No frame from 13 to 20/);

    fireEvent.input(screen.getByTestId("matting-start"), { target: { value: "0" } });
    fireEvent.click(screen.getAllByTestId("matting-object")[0]); // uncheck Dancer
    expect(screen.getByTestId("matting-validation").textContent).toMatch(/at least one object/);
    fireEvent.click(screen.getAllByTestId("matting-object")[0]);
    fireEvent.click(screen.getByTestId("matting-run"));
    expect(onRun).toHaveBeenCalledWith({ start: 0, end: 20, objectIds: [1], formats: ["alpha_png"], background: "00ff00" });
  });
});

describe("Transport", () => {
  it("draws In..Out on the bar, reads it out by the frame number, and clears it with ×", () => {
    const onClear = vi.fn();
    render(() => (
      <Transport
        frame={27}
        frameCount={101}
        fps={25}
        playing={false}
        markers={[]}
        range={null}
        inout={{ in: 20, out: null }}
        inoutText="In 20"
        inoutSaid="In set at frame 20"
        onClearInOut={onClear}
        onSeek={() => {}}
        onStep={() => {}}
        onPlay={() => {}}
      />
    ));
    const band = screen.getByTestId("seek-inout");
    expect([band.dataset.start, band.dataset.end, band.style.left, band.style.width]).toEqual(["20", "100", "20%", "80%"]);
    expect(band.classList.contains("has-in") && !band.classList.contains("has-out")).toBe(true);
    expect(screen.getByTestId("inout-readout").textContent).toContain("In 20");
    expect(screen.getByTestId("inout-announcement").textContent).toBe("In set at frame 20");
    fireEvent.click(screen.getByRole("button", { name: "Clear In/Out" }));
    expect(onClear).toHaveBeenCalledOnce();
  });

  it("keeps the keyboard on the bar when its × clears In/Out and goes with the readout", () => {
    const [text, setText] = createSignal<string | undefined>("In 20");
    render(() => (
      <Transport frame={27} frameCount={101} fps={25} playing={false} markers={[]} range={null} inout={{ in: 20, out: null }} inoutText={text()} onClearInOut={() => setText(undefined)} onSeek={() => {}} onStep={() => {}} onPlay={() => {}} />
    ));
    const clear = screen.getByRole("button", { name: "Clear In/Out" });
    clear.focus();
    fireEvent.click(clear); // Enter or Space on it
    expect(screen.queryByTestId("inout-readout")).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId("seek"));
  });

  it("shows frame number, timecode and markers, and steps", () => {
    const onStep = vi.fn();
    const onSeek = vi.fn();
    render(() => (
      <Transport
        frame={27}
        frameCount={100}
        fps={25}
        playing={false}
        markers={[{ frame: 12, color: "#f00" }, { frame: 30, color: "#f00" }]}
        range={null}
        onSeek={onSeek}
        onStep={onStep}
        onPlay={() => {}}
      />
    ));
    expect(screen.getByTestId("frame-number").textContent).toBe("27");
    expect(screen.getByTestId("timecode").textContent).toBe("00:00:01:02");
    expect(screen.getAllByTestId("seek-marker").map((m) => m.dataset.frame)).toEqual(["12", "30"]);
    fireEvent.click(screen.getByTestId("seek-forward-10"));
    expect(onStep).toHaveBeenCalledWith(10);
    fireEvent.input(screen.getByTestId("seek"), { target: { value: "50" } });
    expect(onSeek).toHaveBeenCalledWith(50);
  });

  it("shows the source's timecode when the video has one, as the exports stamp it", () => {
    render(() => (
      <Transport
        frame={4}
        frameCount={100}
        fps={30000 / 1001}
        timecode="00:00:59;26"
        playing={false}
        markers={[]}
        range={null}
        onSeek={() => {}}
        onStep={() => {}}
        onPlay={() => {}}
      />
    ));
    const readout = screen.getByTestId("timecode");
    expect(readout.textContent).toBe("00:01:00;02"); // ;00 and ;01 are skipped at that minute
    expect(readout.title).toContain("source timecode");
  });

  it("shows an image sequence's own frame number (shot.1021.png), as its exports are named; a video's none", () => {
    const props = { frameCount: 100, fps: 24, playing: false, markers: [], range: null, onSeek: () => {}, onStep: () => {}, onPlay: () => {} };
    const [frame, setFrame] = createSignal(20);
    const { unmount } = render(() => <Transport {...props} frame={frame()} firstNumber={1001} />);
    const number = screen.getByTestId("image-number");
    expect(number.textContent).toBe("#1021");
    expect(number.title).toContain("001021");
    setFrame(0);
    expect(number.textContent).toBe("#1001");
    unmount();
    render(() => <Transport {...props} frame={20} firstNumber={0} />);
    expect(screen.queryByTestId("image-number")).toBeNull();
  });

  it("goes to what the go-to field reads on Enter, marks a bad value invalid, and Escape cancels", () => {
    const onSeek = vi.fn();
    render(() => (
      <Transport frame={27} frameCount={100} fps={25} playing={false} markers={[]} range={null} onSeek={onSeek} onStep={() => {}} onPlay={() => {}} />
    ));
    const open = () => {
      fireEvent.click(screen.getByTestId("frame-number"));
      return screen.getByTestId("goto-input") as HTMLInputElement;
    };
    let field = open();
    expect(field.value).toBe("27");
    fireEvent.input(field, { target: { value: "3:04" } }); // 3 s 4 frames
    fireEvent.keyDown(field, { key: "Enter" });
    expect(onSeek).toHaveBeenCalledWith(79);
    expect(screen.queryByTestId("goto-input")).toBeNull();

    field = open();
    fireEvent.input(field, { target: { value: "100" } });
    fireEvent.keyDown(field, { key: "Enter" });
    expect(field.getAttribute("aria-invalid")).toBe("true");
    const why = document.getElementById(field.getAttribute("aria-describedby")!);
    expect(why?.textContent).toBe("frame 100 is past the last frame, 99");
    fireEvent.keyDown(field, { key: "Escape" });
    expect(screen.queryByTestId("goto-input")).toBeNull();
    expect(screen.getByTestId("frame-number").textContent).toBe("27");
    expect(onSeek).toHaveBeenCalledTimes(1);
  });

  it("leaves Enter and Escape that end an input method's composition in the go-to field to it", () => {
    const onSeek = vi.fn();
    render(() => (
      <Transport frame={27} frameCount={100} fps={25} playing={false} markers={[]} range={null} onSeek={onSeek} onStep={() => {}} onPlay={() => {}} />
    ));
    fireEvent.click(screen.getByTestId("frame-number"));
    const field = screen.getByTestId("goto-input") as HTMLInputElement;
    fireEvent.input(field, { target: { value: "40" } });
    fireEvent.keyDown(field, { key: "Enter", isComposing: true }); // a full-width "４０" chosen
    fireEvent.keyDown(field, { key: "Escape", keyCode: 229 }); // a composition dropped (Safari says only 229)
    expect(screen.getByTestId("goto-input")).toBe(field);
    expect(onSeek).not.toHaveBeenCalled();
    fireEvent.keyDown(field, { key: "Enter" });
    expect(onSeek).toHaveBeenCalledWith(40);
  });
});

describe("JobProgressBar", () => {
  it("renders percent, frames, fps and ETA", () => {
    const job: Job = {
      id: "j",
      project_id: "p",
      status: "running",
      start: 0,
      end: 49,
      object_ids: [1],
      frames_done: 25,
      frames_total: 50,
      fps: 5,
      eta_seconds: 5,
      error: null,
      created_at: "",
      updated_at: "",
    };
    render(() => <JobProgressBar job={job} testid="job-progress" />);
    const el = screen.getByTestId("job-progress");
    expect(el.dataset.percent).toBe("50");
    expect(el.textContent).toContain("50%");
    expect(el.textContent).toContain("25 / 50 frames");
    expect(el.textContent).toContain("5.0 fps");
    expect(el.textContent).toContain("ETA 5 s");
  });
});

describe("Toasts", () => {
  afterEach(() => toasts().forEach((t) => dismiss(t.id)));
  it("shows server errors as readable messages", async () => {
    render(() => <Toasts />);
    showError("Project abc not found", "Could not load");
    const el = await screen.findByTestId("error-message");
    expect(el.textContent).toContain("Project abc not found");
    expect(el.getAttribute("role")).toBe("alert");
  });
});

describe("reduced motion", () => {
  it("stops every slide, pop and fade when the system asks for less motion; the spinner only slows", () => {
    const css = readFileSync(join(__dirname, "../styles.css"), "utf8").replace(/\/\*[\s\S]*?\*\//g, ""); // comments out
    const at = css.indexOf("@media (prefers-reduced-motion: reduce)");
    expect(at).toBeGreaterThan(-1);
    const reduced = css.slice(at);
    const rules = (text: string) => [...text.matchAll(/([^{}]+)\{([^{}]*)\}/g)].map((m) => ({ selectors: m[1].split(",").map((s) => s.trim()), body: m[2] }));
    const moving = rules(css.slice(0, at)).filter((r) => /\b(animation|transition):/.test(r.body) && !r.selectors.some((s) => s.startsWith("@") || /^(from|to)$/.test(s)));
    const stilled = rules(reduced).filter((r) => /(animation|transition): none/.test(r.body)).flatMap((r) => r.selectors);
    const moved = moving.flatMap((r) => r.selectors).filter((s) => s !== ".spinner");
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.filter((s) => !stilled.includes(s))).toEqual([]);
    expect(rules(reduced).find((r) => r.selectors.includes(".spinner"))?.body).toContain("animation-duration: 2.4s");
  });
});
