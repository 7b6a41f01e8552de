// The Matting form's outputs (OutputFields): chosen formats and the composite colour, picked
// or typed, reach the job; a bad colour blocks it only when a composite is asked for.
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { describe, expect, it, vi } from "vitest";
import type { MatteObject } from "../api";
import { fromFramePoints } from "../points";
import { MattingForm } from "./MattingForm";

const objects: MatteObject[] = [{ id: 1, project_id: "p", name: "Dancer", color: "#ff5a5f" }];
const points = fromFramePoints([{ object_id: 1, frame: 3, points: [{ x: 5, y: 5, label: "positive" }] }]);
const format = (id: string) => screen.getAllByTestId("matting-format").find((b) => b.dataset.format === id) as HTMLInputElement;

describe("OutputFields", () => {
  it("sends the chosen formats and colour with the job", () => {
    const onRun = vi.fn();
    render(() => <MattingForm frameCount={10} objects={objects} points={points} initialFormats={["alpha_png"]} initialBackground="#00FF00" onRun={onRun} onCancel={() => {}} />);
    const picker = screen.getByLabelText("Background colour") as HTMLInputElement;
    const typed = screen.getByTestId("matting-background") as HTMLInputElement;
    expect(screen.getByRole("textbox", { name: "Background colour, six hex digits" })).toBe(typed); // named for a screen reader too
    expect(typed.value).toBe("00ff00");
    expect(format("alpha_png").checked).toBe(true);

    fireEvent.click(format("composite_mp4"));
    fireEvent.click(format("alpha_png")); // unchecked
    fireEvent.input(typed, { target: { value: "#12ab" } });
    expect(screen.getByTestId("matting-validation").textContent).toContain("The background colour must be six hex digits, like 00ff00.");
    expect(picker.value).toBe("#00ff00"); // the picker keeps a colour it can show
    fireEvent.input(typed, { target: { value: "#12ab34" } });
    expect(picker.value).toBe("#12ab34");
    fireEvent.input(picker, { target: { value: "#ff00ff" } });
    expect(typed.value).toBe("ff00ff");
    fireEvent.click(screen.getByTestId("matting-run"));
    expect(onRun).toHaveBeenCalledWith({ start: 3, end: 3, objectIds: [1], formats: ["composite_mp4"], background: "ff00ff" });
  });

  it("needs at least one format", () => {
    render(() => <MattingForm frameCount={10} objects={objects} points={points} initialFormats={[]} initialBackground="00ff00" onRun={() => {}} onCancel={() => {}} />);
    expect(format("alpha_png").checked).toBe(true); // no remembered choice: the default
    fireEvent.click(format("alpha_png"));
    expect(screen.getByTestId("matting-validation").textContent).toContain("Choose at least one output format.");
    expect((screen.getByTestId("matting-run") as HTMLButtonElement).disabled).toBe(true);
  });
});
