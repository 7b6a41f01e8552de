// The object list by keyboard: every row (not only the first nine, which have number keys)
// can be reached with Tab and selected with Enter or Space.
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { describe, expect, it } from "vitest";
import type { MatteObject } from "../api";
import { ObjectList } from "./ObjectList";

const objects: MatteObject[] = Array.from({ length: 11 }, (_, i) => ({ id: i + 1, project_id: "p", name: `Object ${i + 1}`, color: "#ff5a5f" }));

describe("ObjectList", () => {
  it("a row is a focusable button: Enter or Space selects it, keys on its own buttons do not", () => {
    const selected: number[] = [];
    render(() => (
      <ObjectList
        objects={objects}
        selectedId={1}
        pointCounts={new Map()}
        onSelect={(oid) => selected.push(oid)}
        onAdd={() => {}}
        onRename={() => {}}
        onColor={() => {}}
        onDelete={() => {}}
      />
    ));
    const rows = screen.getAllByTestId("object-item");
    const tenth = rows[9];
    expect(tenth.tabIndex).toBe(0);
    expect(tenth.getAttribute("role")).toBe("button");
    expect([rows[0], tenth].map((r) => r.getAttribute("aria-pressed"))).toEqual(["true", "false"]);
    fireEvent.keyDown(tenth, { key: "Enter" });
    // Space presses the row (not the editor's play shortcut, nor a scroll of the panel)
    expect(fireEvent.keyDown(rows[10], { key: " " })).toBe(false);
    fireEvent.keyDown(screen.getAllByTestId("object-rename")[9], { key: "Enter" });
    fireEvent.keyDown(tenth, { key: "a" });
    expect(selected).toEqual([10, 11]);
  });
});
