import { afterEach, describe, expect, it } from "vitest";
import { dismiss, notify, toasts } from "./toasts";

const shown = () => toasts().map((t) => `${t.title ?? ""}: ${t.text}`);

describe("toasts", () => {
  afterEach(() => toasts().forEach((t) => dismiss(t.id)));

  it("the same message again replaces the earlier one instead of stacking", () => {
    notify("error", "the project does not exist", "Preview of frame 0 failed");
    notify("error", "the project does not exist", "Preview of frame 0 failed");
    expect(shown()).toEqual(["Preview of frame 0 failed: the project does not exist"]);
  });

  it("keeps two messages with the same text under different titles", () => {
    notify("error", "the project does not exist", "Could not save the points of frame 0");
    notify("error", "the project does not exist", "Preview of frame 0 failed");
    expect(shown()).toEqual([
      "Could not save the points of frame 0: the project does not exist",
      "Preview of frame 0 failed: the project does not exist",
    ]);
  });
});
