import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createSignal } from "solid-js";
import { describe, expect, it } from "vitest";
import type { ObjectWait } from "./saving";
import { Toolbar, type ToolbarProps } from "./Toolbar";

const props = (over: Partial<ToolbarProps> = {}): ToolbarProps => ({
  selected: null,
  objects: [],
  track: null,
  canTrack: false,
  trackRange: null,
  trackStarting: false,
  canUndo: false,
  canRedo: false,
  canClear: false,
  maskVisible: true,
  offline: false,
  unsaved: 0,
  diskFull: false,
  objectWait: null,
  onRetrySaves: () => {},
  onTrack: () => {},
  onCancelTrack: () => {},
  onUndo: () => {},
  onRedo: () => {},
  onClear: () => {},
  onToggleMask: () => {},
  onPreview: () => {},
  onMatting: () => {},
  onHelp: () => {},
  ...over,
});

describe("Toolbar", () => {
  it("says a save note through one live region that was there before it, so a screen reader hears it come", () => {
    const [wait, setWait] = createSignal<ObjectWait>(null);
    render(() => <Toolbar {...props({ unsaved: 1 })} objectWait={wait()} />);
    const region = screen.getByTestId("save-status"); // "Saving… 1 unsaved" in it now
    expect(region.getAttribute("role")).toBe("status");
    setWait("stalled");
    expect(screen.getByTestId("save-status")).toBe(region);
    expect(region.textContent).toContain("Server still making an object: 1 unsaved");
    expect(region.querySelectorAll("[role=status]")).toHaveLength(0); // no live region in another: said once
  });

  it("says nothing about the connection while the server answers and all is saved", () => {
    render(() => <Toolbar {...props()} />);
    expect(screen.queryByTestId("connection-lost")).toBeNull();
  });

  it("says the connection is lost and how many points wait to be saved", () => {
    render(() => <Toolbar {...props({ offline: true, unsaved: 2 })} />);
    const note = screen.getByTestId("connection-lost");
    expect(note.textContent).toBe("Connection lost: reconnecting… 2 unsaved");
    expect(note.getAttribute("data-offline")).toBe("true");
  });

  it("says the server's disk is full, not 'Saving…', while points wait for room, and offers Retry", () => {
    let retried = 0;
    render(() => <Toolbar {...props({ unsaved: 3, diskFull: true, onRetrySaves: () => retried++ })} />);
    expect(screen.queryByTestId("connection-lost")).toBeNull();
    expect(screen.getByTestId("disk-full").textContent).toBe("Server disk full: 3 unsaved Retry");
    fireEvent.click(screen.getByTestId("retry-saves"));
    expect(retried).toBe(1);
  });

  it("says what the unsaved clicks wait for: the server away, or still making a new object, each in its own words", () => {
    const { unmount } = render(() => <Toolbar {...props({ offline: true, unsaved: 1 })} />);
    expect(screen.getByTestId("connection-lost").title).toBe("The server does not answer. New points are kept here and saved when it is back.");
    unmount();
    const making = render(() => <Toolbar {...props({ unsaved: 2, objectWait: "making" })} />);
    const note = screen.getByTestId("connection-lost");
    expect(note.textContent).toBe("Saving… 2 unsaved");
    expect(note.title).toBe("The server is still making the new object for a click: it is asked again every few seconds. The click is kept here meanwhile.");
    making.unmount();
    const sending = render(() => <Toolbar {...props({ unsaved: 1 })} />);
    expect(screen.getByTestId("connection-lost").title).toBe("New points are on their way to the server.");
    sending.unmount();
    // Away wins: nothing is asked while the server does not answer.
    render(() => <Toolbar {...props({ offline: true, unsaved: 2, objectWait: "making" })} />);
    expect(screen.getByTestId("connection-lost").title).toBe("The server does not answer. New points are kept here and saved when it is back.");
  });

  it("says when the server has not finished a new object after a minute of asking, keeps the clicks and offers Retry", () => {
    let retried = 0;
    render(() => <Toolbar {...props({ unsaved: 2, objectWait: "stalled", onRetrySaves: () => retried++ })} />);
    expect(screen.queryByTestId("connection-lost")).toBeNull();
    const note = screen.getByTestId("object-stalled");
    expect(note.textContent).toBe("Server still making an object: 2 unsaved Retry");
    expect(note.title).toBe("The server has not finished making the new object for a click after a minute of asking. The click is kept here; Retry asks again.");
    fireEvent.click(screen.getByTestId("retry-saves"));
    expect(retried).toBe(1);
  });

  it("says when the object of a click undone while it was being made is still not made after a minute (no click waits), and offers Retry", () => {
    let retried = 0;
    render(() => <Toolbar {...props({ unsaved: 0, objectWait: "stalled", onRetrySaves: () => retried++ })} />);
    expect(screen.queryByTestId("connection-lost")).toBeNull();
    const note = screen.getByTestId("object-stalled");
    expect(note.textContent).toBe("Server still making an object Retry");
    expect(note.title).toBe("The server has not finished making the object asked for a click you undid, after a minute of asking: it shows in the list once made. Retry asks again.");
    fireEvent.click(screen.getByTestId("retry-saves"));
    expect(retried).toBe(1);
  });

  it("names Retry by the work it retries, so a screen reader does not hear a bare 'Retry'", () => {
    const cases: [Partial<ToolbarProps>, string][] = [
      [{ unsaved: 3, diskFull: true }, "Retry saving 3 clicks"],
      [{ unsaved: 1, diskFull: true }, "Retry saving 1 click"],
      [{ unsaved: 2, objectWait: "stalled" }, "Retry making the new object for 2 clicks"],
      [{ unsaved: 0, objectWait: "stalled" }, "Retry making the new object"],
    ];
    for (const [over, name] of cases) {
      const { unmount } = render(() => <Toolbar {...props(over)} />);
      expect(screen.getByRole("button", { name })).toBe(screen.getByTestId("retry-saves"));
      unmount();
    }
  });

  it("has Redo beside Undo, disabled with nothing to redo", () => {
    let redone = 0;
    const { unmount } = render(() => <Toolbar {...props({ canRedo: true, onRedo: () => redone++ })} />);
    const redo = screen.getByRole("button", { name: "Redo" });
    expect(redo.title).toBe("Redo (Ctrl+Shift+Z)");
    expect(redo.previousElementSibling?.getAttribute("data-testid")).toBe("undo");
    fireEvent.click(redo);
    expect(redone).toBe(1);
    unmount();
    render(() => <Toolbar {...props({ canRedo: false })} />);
    expect((screen.getByRole("button", { name: "Redo" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("names the mask toggle by what it does, not also as a pressed state (read 'Show mask, pressed' before)", () => {
    for (const [maskVisible, name] of [[true, "Hide mask"], [false, "Show mask"]] as const) {
      const { unmount } = render(() => <Toolbar {...props({ maskVisible })} />);
      const toggle = screen.getByRole("button", { name });
      expect(toggle.hasAttribute("aria-pressed")).toBe(false);
      unmount();
    }
  });
});
