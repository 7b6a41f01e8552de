// The stage's clicks on existing points, for non-square pixels: a click removes exactly the
// point the hover marks (both measured on screen), never one the hover leaves unmarked. Zoom
// and pan: clicks land on the stored pixel drawn under them, drags pan without a point.
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createSignal, mergeProps } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { online, setOnline } from "../api";
import { FIT_VIEW, type Vec, type View } from "../geometry";
import { frameSummary } from "../editor/view";
import { applyClick, getPoints, type PointMap } from "../points";
import { FrameStage, type BoxMarker, type FrameStageProps, type Marker } from "./FrameStage";

afterEach(() => vi.restoreAllMocks());

/** A FrameStage on a `width`×`height` stage (jsdom lays nothing out) showing 200×200 stored
 * pixels; `props` over the defaults (a getter stays reactive). */
function renderStage(width: number, height: number, props: Partial<FrameStageProps>) {
  vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockReturnValue(new DOMRect(0, 0, width, height));
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  const defaults: FrameStageProps = {
    video: { width: 200, height: 200, pixel_aspect: 1 },
    frameIndex: 0,
    mode: "off",
    picture: { index: 0, image: {} as HTMLImageElement },
    alphaImage: null,
    compose: { tint: "#ff0000", background: "#00ff00" },
    markers: [],
    previewUrl: null,
    previewLoading: false,
    frameLoading: false,
    editable: true,
    nameOf: (id) => `object ${id}`,
    onPoint: () => {},
    onResize: () => {},
  };
  render(() => <FrameStage {...mergeProps(defaults, props)} />);
}

/** A 400×200 stage (jsdom lays nothing out) showing 200×200 stored pixels twice as wide as tall:
 * 2 screen pixels across and 1 down per stored pixel. One point at stored (100, 100), drawn at (200, 100). */
function setup() {
  const [points, setPoints] = createSignal<PointMap>(new Map([["1:0", [{ x: 100, y: 100, label: "positive" as const }]]]));
  renderStage(400, 200, {
    video: { width: 200, height: 200, pixel_aspect: 2 },
    get markers(): Marker[] {
      return getPoints(points(), 1, 0).map((point, index) => ({ objectId: 1, index, point, color: "#f00", selected: true }));
    },
    onPoint: (at, label, near) => void setPoints(applyClick(points(), 0, 1, at, label, near).map),
  });
  const canvas = screen.getByTestId("frame-canvas");
  const at = (clientX: number) => ({ clientX, clientY: 100 });
  return { canvas, at, points: () => getPoints(points(), 1, 0).map((p) => p.x) };
}

/** A stage whose frame changes with `setFrame`, each frame shown at once (cached), with the
 * boxes it makes. */
function steppingStage() {
  const [frame, setFrame] = createSignal(0);
  const made: [Vec, Vec][] = [];
  renderStage(200, 200, {
    get frameIndex() {
      return frame();
    },
    get picture() {
      return { index: frame(), image: {} as HTMLImageElement };
    },
    onBox: (a, b) => void made.push([a, b]),
  });
  return { setFrame, made };
}

describe("FrameStage hits on non-square pixels", () => {
  it("12 screen pixels beside a point: no hover mark, and a click adds a point there", () => {
    const s = setup();
    fireEvent.mouseMove(s.canvas, s.at(212));
    expect(screen.getByTestId("point-marker").classList.contains("hover")).toBe(false);
    fireEvent.click(s.canvas, s.at(212));
    expect(s.points()).toEqual([100, 106]);
  });

  it("8 screen pixels beside a point: the hover marks it, and a click removes it", () => {
    const s = setup();
    fireEvent.mouseMove(s.canvas, s.at(208));
    expect(screen.getByTestId("point-marker").classList.contains("hover")).toBe(true);
    fireEvent.click(s.canvas, s.at(208));
    expect(s.points()).toEqual([]);
  });
});

describe("FrameStage's mask overlay", () => {
  afterEach(() => setOnline(true));

  /** The stage at `frame`, loading, with the mask overlay at `url`. */
  function renderOverlay(frame: number, url: string) {
    renderStage(200, 200, { frameIndex: frame, picture: null, previewUrl: url, frameLoading: true });
  }

  it("is hidden while its load failed, and loads again once the server is back", () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("{}"))); // the failed load's health probe
    const url = "/api/projects/p/track/masks/30?v=0";
    renderOverlay(30, url);
    const first = screen.getByTestId("preview-layer");
    // The server is away: the load fails, and no broken image stands over the frame.
    setOnline(false);
    fireEvent.error(first);
    expect(screen.queryByTestId("preview-layer")).toBeNull();
    // It is back: a new image asks for the same mask again.
    setOnline(true);
    const again = screen.getByTestId("preview-layer");
    expect(again).not.toBe(first);
    expect(again.getAttribute("src")).toBe(url);
    vi.unstubAllGlobals();
  });

  it("a failed load asks whether the server is there: a short outage no request noticed is noticed", async () => {
    const asked: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        asked.push(url);
        throw new TypeError("Failed to fetch");
      }),
    );
    renderOverlay(21, "/api/projects/p/track/masks/21?v=0");
    fireEvent.error(screen.getByTestId("preview-layer")); // the frame came from the cache: only the mask asked
    await vi.waitFor(() => expect(online()).toBe(false)); // the connection watch now probes until it is back
    expect(asked).toEqual(["/api/health"]);
    vi.unstubAllGlobals();
  });
});

describe("FrameStage's announcements", () => {
  /** A focused 200×200 stage with no points: the crosshair starts at the centre (100, 100). */
  function setup() {
    const [points, setPoints] = createSignal<PointMap>(new Map());
    renderStage(200, 200, {
      get markers(): Marker[] {
        return getPoints(points(), 1, 0).map((point, index) => ({ objectId: 1, index, point, color: "#f00", selected: true }));
      },
      get summary() {
        return frameSummary(points(), 0, () => false);
      },
      nameOf: (id) => `hair ${id}`,
      // As the editor's: the point lands once its object is there, a moment later.
      onPoint: async (at, label, near) => {
        await Promise.resolve();
        setPoints(applyClick(points(), 0, 1, at, label, near).map);
      },
    });
    const stage = screen.getByTestId("stage");
    fireEvent.focus(stage);
    const live = screen.getByRole("status");
    return { stage, live, key: (key: string, shiftKey = false) => fireEvent.keyDown(stage, { key, shiftKey }) };
  }

  it("says where the crosshair moved, and what Enter and Shift+Enter did with the frame's count", async () => {
    const s = setup();
    expect(s.live.getAttribute("aria-live")).toBe("polite");
    s.key("ArrowLeft");
    expect(s.live.textContent).toBe("Crosshair 90, 100");
    s.key("Enter");
    await vi.waitFor(() => expect(s.live.textContent).toBe("Positive point for hair 1 at 90, 100 — 1 positive, 0 negative on this frame"));
    s.key("ArrowRight");
    s.key("ArrowRight");
    s.key("ArrowRight", true);
    expect(s.live.textContent).toBe("Crosshair 111, 100");
    s.key("Enter", true);
    await vi.waitFor(() => expect(s.live.textContent).toBe("Negative point for hair 1 at 111, 100 — 1 positive, 1 negative on this frame"));
    s.key("ArrowLeft");
    s.key("ArrowLeft");
    s.key("Enter"); // 1 pixel beside the positive point: removes it
    await vi.waitFor(() => expect(s.live.textContent).toBe("Removed positive point of hair 1 at 90, 100 — 0 positive, 1 negative on this frame"));
  });

  it("a click is not announced: the clicker sees it", async () => {
    const s = setup();
    s.key("ArrowUp");
    fireEvent.click(screen.getByTestId("frame-canvas"), { clientX: 50, clientY: 50 });
    await vi.waitFor(() => expect(screen.getByTestId("frame-summary").textContent).toBe("1 positive, 0 negative on this frame"));
    expect(s.live.textContent).toBe("Crosshair 100, 90");
  });
});

describe("FrameStage zoom and pan", () => {
  /** The 400×200 stage of `setup` with no points, its view kept as the editor keeps it. */
  function zoomable() {
    const [view, setView] = createSignal<View>(FIT_VIEW);
    const clicks: Vec[] = [];
    renderStage(400, 200, {
      video: { width: 200, height: 200, pixel_aspect: 2 },
      onPoint: (at) => void clicks.push(at),
      get view() {
        return view();
      },
      onView: setView,
    });
    return { canvas: screen.getByTestId("frame-canvas"), stage: screen.getByTestId("stage"), view, clicks };
  }

  it("the wheel zooms about the pointer: a click there is still the same stored pixel", () => {
    const s = zoomable();
    const wheel = new WheelEvent("wheel", { deltaY: -300, clientX: 300, clientY: 50, cancelable: true });
    s.stage.dispatchEvent(wheel);
    expect(wheel.defaultPrevented).toBe(true); // the page does not scroll
    expect(s.view().zoom).toBeCloseTo(Math.exp(0.6));
    expect(s.canvas.dataset.zoom).toBe(Math.exp(0.6).toFixed(4));
    expect(screen.getByTestId("stage-zoom").textContent).toContain("182%");
    fireEvent.click(s.canvas, { clientX: 300, clientY: 50 });
    expect(s.clicks[0].x).toBeCloseTo(150); // 2 screen pixels across per stored pixel at the fit
    expect(s.clicks[0].y).toBeCloseTo(50);
    fireEvent.click(screen.getByTestId("zoom-fit"));
    expect(s.view()).toEqual(FIT_VIEW);
    expect(screen.queryByTestId("stage-zoom")).toBeNull();
  });

  it("the view follows the keyboard's crosshair past its edge", () => {
    const s = zoomable();
    s.stage.dispatchEvent(new WheelEvent("wheel", { deltaY: -700, clientX: 200, clientY: 100, cancelable: true }));
    const before = s.view();
    fireEvent.focus(s.stage);
    fireEvent.keyDown(s.stage, { key: "ArrowRight" }); // 10 stored pixels: still in view
    expect(s.view()).toEqual(before);
    for (let i = 0; i < 5; i++) fireEvent.keyDown(s.stage, { key: "ArrowRight" });
    expect(s.view().x).toBeLessThan(before.x); // the picture moved left under the crosshair
    const cross = screen.getByTestId("crosshair").getAttribute("transform")!;
    const x = Number(/translate\(([-\d.]+)/.exec(cross)![1]);
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThanOrEqual(400);
  });

  it("Enter on the Fit button fits the frame: the stage's crosshair keys are its own only", () => {
    const s = zoomable();
    s.stage.dispatchEvent(new WheelEvent("wheel", { deltaY: -500, clientX: 200, clientY: 100, cancelable: true }));
    const fitButton = screen.getByTestId("zoom-fit");
    fitButton.focus();
    // The button's own keys: not a point at the crosshair, nor the browser's click withheld.
    expect(fireEvent.keyDown(fitButton, { key: "Enter" })).toBe(true);
    expect(fireEvent.keyDown(fitButton, { key: "ArrowLeft" })).toBe(true);
    expect(s.clicks).toEqual([]);
    expect(screen.queryByTestId("crosshair")).toBeNull();
    // Enter's click (detail 0: not a mouse's) fits, and the focus, whose button is gone, is
    // the stage's rather than the page's.
    fireEvent.click(fitButton, { detail: 0 });
    expect(s.view()).toEqual(FIT_VIEW);
    expect(document.activeElement).toBe(s.stage);
  });

  it("Shift+drag pans and adds no point; a middle-button drag pans too", () => {
    const s = zoomable();
    s.stage.dispatchEvent(new WheelEvent("wheel", { deltaY: -500, clientX: 200, clientY: 100, cancelable: true }));
    fireEvent.mouseDown(s.canvas, { button: 0, shiftKey: true, clientX: 200, clientY: 100 });
    fireEvent.mouseMove(window, { clientX: 230, clientY: 90 });
    fireEvent.mouseUp(window, { clientX: 230, clientY: 90 });
    fireEvent.click(s.canvas, { shiftKey: true, clientX: 230, clientY: 90 });
    // The pan is in fitted picture sizes: the fit is the whole 400×200 stage.
    expect(s.view().x).toBeCloseTo(30 / 400);
    expect(s.view().y).toBeCloseTo(-10 / 200);
    expect(s.clicks).toEqual([]);
    fireEvent.mouseDown(s.canvas, { button: 1, clientX: 200, clientY: 100 });
    fireEvent.mouseMove(window, { clientX: 190, clientY: 100 });
    fireEvent.mouseUp(window);
    expect(s.view().x).toBeCloseTo(20 / 400);
    expect(s.view().y).toBeCloseTo(-10 / 200);
    fireEvent.click(s.canvas, { clientX: 200, clientY: 100 }); // a plain click after: a point
    expect(s.clicks).toHaveLength(1);
  });
});

describe("boxes on the stage", () => {
  /** 200×200 stored pixels on a 200×200 stage: screen and stored pixels are one. Boxes made are
   * the selected object 1's, and shown. */
  function boxable() {
    const [boxes, setBoxes] = createSignal<BoxMarker[]>([]);
    const made: [Vec, Vec][] = [];
    const removed: number[] = [];
    const clicks: Vec[] = [];
    renderStage(200, 200, {
      get boxes() {
        return boxes();
      },
      onBox: (a, b) => {
        made.push([a, b]);
        const box = { x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y) };
        setBoxes([{ objectId: 1, box, color: "#ff0000", selected: true }]);
      },
      onRemoveBox: (oid) => removed.push(oid),
      onPoint: (at) => void clicks.push(at),
    });
    return { canvas: screen.getByTestId("frame-canvas"), stage: screen.getByTestId("stage"), made, removed, clicks };
  }

  it("a left drag draws a box (its band shown meanwhile) and adds no point; a press that stays is a click", () => {
    const s = boxable();
    fireEvent.mouseDown(s.canvas, { button: 0, clientX: 120, clientY: 90 });
    fireEvent.mouseMove(window, { clientX: 60, clientY: 70 });
    expect(screen.getByTestId("box-drag")).toBeTruthy();
    fireEvent.mouseMove(window, { clientX: 20, clientY: 30 });
    fireEvent.mouseUp(window, { clientX: 20, clientY: 30 });
    fireEvent.click(s.canvas, { clientX: 20, clientY: 30 });
    expect(s.made).toEqual([[{ x: 120, y: 90 }, { x: 20, y: 30 }]]);
    expect(s.clicks).toEqual([]);
    expect(screen.queryByTestId("box-drag")).toBeNull();
    expect(screen.getByTestId("box-marker").dataset.box).toBe("20,30,120,90");
    // A shaky click (under DRAG_PX) is still a point.
    fireEvent.mouseDown(s.canvas, { button: 0, clientX: 50, clientY: 50 });
    fireEvent.mouseMove(window, { clientX: 53, clientY: 51 });
    fireEvent.mouseUp(window, { clientX: 53, clientY: 51 });
    fireEvent.click(s.canvas, { clientX: 53, clientY: 51 });
    expect(s.clicks).toEqual([{ x: 53, y: 51 }]);
    expect(s.made).toHaveLength(1);
  });

  it("a drag during which another frame came up (a key stepped, playback) makes no box on it: it was drawn over the frame before", () => {
    const { setFrame, made } = steppingStage();
    const canvas = screen.getByTestId("frame-canvas");
    fireEvent.mouseDown(canvas, { button: 0, clientX: 120, clientY: 90 });
    fireEvent.mouseMove(window, { clientX: 60, clientY: 70 });
    setFrame(1);
    fireEvent.mouseMove(window, { clientX: 20, clientY: 30 });
    fireEvent.mouseUp(window, { clientX: 20, clientY: 30 });
    expect(made).toEqual([]);
    // The next drag, all on this frame, makes its box.
    fireEvent.mouseDown(canvas, { button: 0, clientX: 120, clientY: 90 });
    fireEvent.mouseMove(window, { clientX: 20, clientY: 30 });
    fireEvent.mouseUp(window, { clientX: 20, clientY: 30 });
    expect(made).toEqual([[{ x: 120, y: 90 }, { x: 20, y: 30 }]]);
  });

  it("a drag past the frame's edge ends on it", () => {
    const s = boxable();
    fireEvent.mouseDown(s.canvas, { button: 0, clientX: 150, clientY: 150 });
    fireEvent.mouseMove(window, { clientX: 260, clientY: -40 });
    fireEvent.mouseUp(window, { clientX: 260, clientY: -40 });
    expect(s.made).toEqual([[{ x: 150, y: 150 }, { x: 200, y: 0 }]]);
  });

  it("the box's × removes it, without a drag or a point", () => {
    const s = boxable();
    fireEvent.mouseDown(s.canvas, { button: 0, clientX: 10, clientY: 10 });
    fireEvent.mouseMove(window, { clientX: 90, clientY: 90 });
    fireEvent.mouseUp(window);
    const remove = screen.getByTestId("box-remove");
    expect(remove.getAttribute("aria-label")).toBe("Remove the box of object 1");
    fireEvent.mouseDown(remove, { button: 0 });
    fireEvent.click(remove);
    expect(s.removed).toEqual([1]);
    expect(s.clicks).toEqual([]);
    expect(s.made).toHaveLength(1);
    // A screen reader hears it, as it hears a box drawn.
    expect(screen.getByTestId("stage-announcement").textContent).toBe("Box of object 1 removed (Ctrl+Z brings it back)");
  });

  it("a B corner set on one frame is not a box's corner on another: B there sets a first corner anew", async () => {
    const { setFrame, made } = steppingStage();
    const stage = screen.getByTestId("stage");
    const live = screen.getByTestId("stage-announcement");
    fireEvent.focus(stage);
    fireEvent.keyDown(stage, { key: "b" }); // at the centre, on frame 0
    setFrame(5); // End, a link, an undo elsewhere: the stage keeps the focus
    expect(screen.queryByTestId("box-corner")).toBeNull();
    fireEvent.keyDown(stage, { key: "ArrowRight" });
    fireEvent.keyDown(stage, { key: "b" });
    await Promise.resolve();
    expect([made, live.textContent]).toEqual([[], "Box corner at 110, 100: move to the opposite corner and press B again"]);
  });

  it("B at the crosshair sets one corner, B again the opposite one; each is told", async () => {
    const s = boxable();
    const live = screen.getByTestId("stage-announcement");
    fireEvent.focus(s.stage);
    fireEvent.keyDown(s.stage, { key: "b" }); // at the centre
    expect(live.textContent).toBe("Box corner at 100, 100: move to the opposite corner and press B again");
    expect(screen.getByTestId("box-corner")).toBeTruthy();
    for (let i = 0; i < 3; i++) fireEvent.keyDown(s.stage, { key: "ArrowRight" });
    fireEvent.keyDown(s.stage, { key: "ArrowUp" });
    fireEvent.keyDown(s.stage, { key: "B" });
    await Promise.resolve();
    expect(s.made).toEqual([[{ x: 100, y: 100 }, { x: 130, y: 90 }]]);
    expect(live.textContent).toBe("Box for object 1 from 100, 90 to 130, 100");
    expect(screen.queryByTestId("box-corner")).toBeNull();
    // Both corners at one place: no box, and why.
    fireEvent.keyDown(s.stage, { key: "b" });
    fireEvent.keyDown(s.stage, { key: "b" });
    expect(live.textContent).toBe("No box: its corners must be at least 1 pixel apart each way");
    expect(s.made).toHaveLength(1);
  });
});
