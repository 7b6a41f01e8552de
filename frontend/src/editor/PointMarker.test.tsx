import { render, screen } from "@solidjs/testing-library";
import { describe, expect, it } from "vitest";
import { PointMarker } from "./PointMarker";

const marker = (unsaved: boolean) => ({
  objectId: 2,
  index: 0,
  point: { x: 12.5, y: 40, label: "negative" as const },
  color: "#ff0000",
  selected: true,
  unsaved,
});

describe("PointMarker", () => {
  it("draws the point where asked, with its label and object", () => {
    render(() => (
      <svg>
        <PointMarker marker={marker(false)} at={{ x: 100, y: 50 }} hover={false} />
      </svg>
    ));
    const g = screen.getByTestId("point-marker");
    expect(g.getAttribute("transform")).toBe("translate(100 50)");
    expect(g.getAttribute("data-label")).toBe("negative");
    expect(g.getAttribute("data-object-id")).toBe("2");
    expect(g.getAttribute("data-unsaved")).toBe("false");
    expect(g.classList.contains("unsaved")).toBe(false);
  });

  it("marks a point the server does not have yet", () => {
    render(() => (
      <svg>
        <PointMarker marker={marker(true)} at={{ x: 0, y: 0 }} hover={true} />
      </svg>
    ));
    const g = screen.getByTestId("point-marker");
    expect(g.getAttribute("data-unsaved")).toBe("true");
    expect(g.classList.contains("unsaved")).toBe(true);
    expect(g.classList.contains("hover")).toBe(true);
  });
});
