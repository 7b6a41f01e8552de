import { For, Show, createEffect, createMemo, createSignal, on, onCleanup, onMount, type JSX } from "solid-js";
import { api, online } from "../api";
import { composeInto, stageFit, type ComposeOptions, type OverlayMode } from "../compose";
import { canvasToPicture, canvasToVideo, clampPan, FIT_VIEW, panBy, panToShow, videoToCanvas, viewRect, wheelZoomFactor, zoomAt, type Picture, type Size, type Vec, type View } from "../geometry";
import { boxFrom, type Box, type ClickLabel, type Near, type Point } from "../points";
import type { FramePicture } from "../editor/frames";
import { boxCornerWords, boxWords, crosshairKey, crosshairStart, crosshairWords, moveCrosshair, pointWords } from "../editor/crosshair";
import { PointMarker } from "../editor/PointMarker";
import { Spinner } from "./ProgressBar";

/** Click radius for hitting an existing point, in screen pixels. */
export const HIT_RADIUS_PX = 10;
/** How far the pointer goes, in screen pixels, before a press is a box's drag, not a click. */
export const DRAG_PX = 5;

export interface Marker {
  objectId: number;
  index: number;
  point: Point;
  color: string;
  selected: boolean;
  /** The server does not have it yet (it was down when the point was clicked). */
  unsaved?: boolean;
}

/** An object's box on the frame. */
export interface BoxMarker {
  objectId: number;
  box: Box;
  color: string;
  selected: boolean;
}

export interface FrameStageProps {
  /** Stored size (what points are in) and pixel aspect (what the picture is drawn at). */
  video: Picture;
  frameIndex: number;
  mode: OverlayMode;
  /** The newest frame loaded: while `frameIndex`'s loads (or after it failed) another frame's. */
  picture: FramePicture | null;
  /** The shown result's matte of `picture`'s frame (null: none loaded for it). */
  alphaImage: HTMLImageElement | null;
  compose: ComposeOptions;
  markers: Marker[];
  previewUrl: string | null;
  previewLoading: boolean;
  frameLoading: boolean;
  editable: boolean;
  badge?: string | null;
  summary?: string;
  /** An object's name, as the announcements say it. */
  nameOf: (objectId: number) => string;
  /** A click at stored pixel `at`; `near` says which points it lands on (removes one). Settles
   * once the edit is shown (its object may have to be made first). */
  onPoint: (at: Vec, label: ClickLabel, near: Near) => void | Promise<void>;
  /** The boxes on the frame, at most one per object. */
  boxes?: BoxMarker[];
  /** A box dragged (or set by B, B) from corner `a` to `b`, in stored pixels, at least 1 px a
   * side: the selected object's new box on this frame. Settles once the edit is shown. */
  onBox?: (a: Vec, b: Vec) => void | Promise<void>;
  onRemoveBox?: (objectId: number) => void;
  onResize: (size: Size) => void;
  /** Zoom and pan (absent: fitted); the stage asks for changes through `onView`. */
  view?: View;
  onView?: (view: View) => void;
}

/** A pan for a data attribute: a rounding error of no pan reads "0.0", never "-0.0". */
function tenths(v: number): string {
  return (Math.round(v * 10) / 10 + 0).toFixed(1);
}

/** The mask drawn over the frame. One that failed to load is left out (a broken image would
 * cover the frame) until the server is back, when a new image asks for it again: a browser
 * does not retry an image whose address did not change. */
function PreviewLayer(props: { url: string; style: JSX.CSSProperties }) {
  const [failed, setFailed] = createSignal<string | null>(null);
  createEffect(on(online, (up) => up && setFailed(null), { defer: true }));
  return (
    <Show when={failed() !== props.url}>
      <img
        class="preview-layer"
        data-testid="preview-layer"
        src={props.url}
        alt=""
        style={props.style}
        draggable={false}
        onError={(e) => {
          // The image's own address: the layer may be gone by now (another track's run took
          // the frame's mask away while it loaded), and its url with it.
          setFailed(e.currentTarget.getAttribute("src"));
          // Is the server there? An image's failure tells nothing, and the frame may have come
          // from the cache: unanswered, this probe sets `online` false, and the connection watch
          // then brings the layer back with the server.
          api.health().catch(() => undefined);
        }}
      />
    </Show>
  );
}

/** An SVG rectangle's attributes spanning two opposite corners. */
function rectOf(a: Vec, b: Vec) {
  return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y) };
}

export function FrameStage(props: FrameStageProps) {
  let stage!: HTMLDivElement;
  let canvas!: HTMLCanvasElement;
  const [size, setSize] = createSignal<Size>({ width: 0, height: 0 });
  const [hover, setHover] = createSignal<{ objectId: number; index: number } | null>(null);
  // The keyboard's crosshair, in stored pixels: shown while the stage has the focus, kept after.
  const [cross, setCross] = createSignal<Vec | null>(null);
  const [focused, setFocused] = createSignal(false);
  // What a screen reader is told of the keyboard's moves and points; clicks are seen, not told.
  const [said, setSaid] = createSignal("");

  // Fitted at the display shape; the side-by-side view stretches both halves alike.
  const fitRectOfStage = createMemo(() => stageFit(size(), props.mode, props.video));
  // The view as it can be (any View the editor holds), and the picture's rectangle under it on
  // this stage now: what everything is drawn and mapped with.
  const view = createMemo(() => clampPan(props.view ?? FIT_VIEW));
  const fit = createMemo(() => viewRect(fitRectOfStage(), view()));
  const fitted = () => fit().scaleX > 0 && fit().scaleY > 0;
  const zoomed = () => view().zoom > 1;
  // A pan under way: where the pointer went down and the view then. `swallow`: the click that
  // ends a Shift+drag (or a Shift+click) is the pan's, not a point.
  const [panning, setPanning] = createSignal<{ from: Vec; view: View } | null>(null);
  let swallow = false;
  // A box being dragged, in canvas pixels (from the press past DRAG_PX on), and the first
  // corner B set by keyboard, in stored pixels.
  const [dragged, setDragged] = createSignal<{ from: Vec; to: Vec } | null>(null);
  const [corner, setCorner] = createSignal<Vec | null>(null);
  // A corner is set on the picture it was seen on: another frame's box does not start there.
  createEffect(on(() => props.frameIndex, () => setCorner(null), { defer: true }));
  // A click belongs to the frame whose picture it lands on: none while another frame's shows.
  const loaded = () => props.picture?.index === props.frameIndex;
  const editable = () => props.editable && loaded();
  // Another frame's picture stands in only while this one loads (stepping does not flash
  // blank); once loading stopped without it, the stage says so instead of showing the wrong one.
  const drawn = () => (loaded() || props.frameLoading ? (props.picture?.image ?? null) : null);

  onMount(() => {
    // Not passive: the wheel zooms the frame instead of scrolling (and a pinch, instead of
    // zooming the page). Solid's onWheel cannot say so.
    const onWheel = (e: WheelEvent) => {
      if (!fitted()) return;
      e.preventDefault();
      const r = stage.getBoundingClientRect();
      const anchor = { x: e.clientX - r.left, y: e.clientY - r.top };
      props.onView?.(zoomAt(view(), fitRectOfStage(), anchor, wheelZoomFactor(e.deltaY, e.deltaMode, e.ctrlKey)));
    };
    stage.addEventListener("wheel", onWheel, { passive: false });
    onCleanup(() => stage.removeEventListener("wheel", onWheel));
    const measure = () => {
      const r = stage.getBoundingClientRect();
      const s = { width: Math.floor(r.width), height: Math.floor(r.height) };
      setSize(s);
      props.onResize(s);
    };
    measure();
    if (typeof ResizeObserver !== "undefined") {
      const ro = new ResizeObserver(measure);
      ro.observe(stage);
      onCleanup(() => ro.disconnect());
    } else {
      window.addEventListener("resize", measure);
      onCleanup(() => window.removeEventListener("resize", measure));
    }
  });

  createEffect(() => {
    const s = size();
    const f = fit();
    const img = drawn();
    const alpha = props.alphaImage;
    const mode = props.mode;
    const compose = props.compose;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(s.width * dpr));
    canvas.height = Math.max(1, Math.round(s.height * dpr));
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, s.width, s.height);
    if (!img || !fitted()) return;
    ctx.imageSmoothingQuality = "high";
    composeInto(ctx, mode, img, mode === "off" ? null : alpha, f, compose);
  });

  /** Drag the picture with the pointer until the button is let go, anywhere on the page. */
  let stopPan: (() => void) | null = null;
  onCleanup(() => stopPan?.());
  const startPan = (e: MouseEvent) => {
    stopPan?.();
    setPanning({ from: { x: e.clientX, y: e.clientY }, view: view() });
    const move = (m: MouseEvent) => {
      const p = panning();
      if (p) props.onView?.(panBy(p.view, fitRectOfStage(), m.clientX - p.from.x, m.clientY - p.from.y));
    };
    const up = () => {
      setPanning(null);
      stopPan = null;
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
    };
    stopPan = up;
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  };

  const localPos = (e: MouseEvent): Vec => {
    const r = canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  /** A left press that moves past DRAG_PX draws a box until the button is let go, on the frame
   * it began on; one that stays is left to the click (a point). */
  let stopDrag: (() => void) | null = null;
  onCleanup(() => stopDrag?.());
  const startBox = (e: MouseEvent) => {
    stopDrag?.();
    const from = localPos(e);
    // The frame it is drawn over: another one that comes up meanwhile (a key stepped) gets no
    // box drawn over the one before.
    const frame = props.frameIndex;
    const move = (m: MouseEvent) => {
      const to = localPos(m);
      if (dragged() || Math.hypot(to.x - from.x, to.y - from.y) >= DRAG_PX) setDragged({ from, to });
    };
    const up = () => {
      stopDrag = null;
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      const d = dragged();
      setDragged(null);
      if (!d) return;
      swallow = true; // the click that ends the drag is the box's
      const a = canvasToPicture(d.from, fit(), props.video);
      const b = canvasToPicture(d.to, fit(), props.video);
      if (editable() && props.frameIndex === frame && boxFrom(a, b)) void props.onBox?.(a, b);
    };
    stopDrag = () => {
      setDragged(null);
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  };

  /** Points within HIT_RADIUS_PX on screen of `pos`: what the hover marks and a click removes,
   * measured where they are drawn (a pixel aspect stretches stored pixels one way only). */
  const screenNear = (pos: Vec): Near => {
    const f = fit();
    return {
      distance: (p) => {
        const c = videoToCanvas(p, f);
        return Math.hypot(c.x - pos.x, c.y - pos.y);
      },
      radius: HIT_RADIUS_PX,
    };
  };

  const nearestMarker = (pos: Vec) => {
    const near = screenNear(pos);
    let best: { m: Marker; d: number } | null = null;
    for (const m of props.markers) {
      const d = near.distance(m.point);
      if (d <= near.radius && (!best || d < best.d)) best = { m, d };
    }
    return best?.m ?? null;
  };

  const place = (e: MouseEvent, label: ClickLabel) => {
    if (!editable()) return;
    const pos = localPos(e);
    const at = canvasToVideo(pos, fit(), props.video);
    if (!at) return;
    props.onPoint(at, label, screenNear(pos));
  };

  /** The point under the crosshair, which Enter removes: marked as the hover marks one. */
  const crossTarget = () => {
    const at = focused() && editable() ? cross() : null;
    return at ? nearestMarker(videoToCanvas(at, fit())) : null;
  };

  /** Enter at the crosshair, then the result told: which point it added or removed, and the
   * frame's count once the edit shows. */
  const placeByKey = async (at: Vec, label: ClickLabel) => {
    const hit = crossTarget();
    const frame = props.frameIndex;
    const count = props.markers.length;
    await props.onPoint(at, label, screenNear(videoToCanvas(at, fit())));
    // Not done (a toast says why), or told of another frame than the one now shown: say nothing.
    if (props.frameIndex !== frame || props.markers.length === count) return;
    // An added point is the selected object's (the edit selects the object it made).
    const owner = hit?.objectId ?? props.markers.find((m) => m.selected)?.objectId;
    if (owner === undefined) return;
    setSaid(pointWords(hit?.point ?? { ...at, label }, hit !== null, props.nameOf(owner), props.summary));
  };

  /** B at the crosshair: the first press sets a corner, the second the opposite one and makes
   * the box; each told. */
  const boxByKey = async (at: Vec) => {
    const first = corner();
    if (!first) {
      setCorner(at);
      return setSaid(boxCornerWords(at));
    }
    setCorner(null);
    const box = boxFrom(first, at);
    if (!box) return setSaid(boxWords(null, ""));
    const frame = props.frameIndex;
    await props.onBox?.(first, at);
    // The box is the selected object's (the edit selects the object it made).
    const owner = props.boxes?.find((b) => b.selected)?.objectId;
    if (props.frameIndex !== frame || owner === undefined) return;
    setSaid(boxWords(box, props.nameOf(owner), props.summary));
  };

  /** Arrows, Enter and Escape on the focused stage are the crosshair's: handled here, the
   * window's shortcuts skip them (they would step frames); every other key stays a shortcut. */
  const onKey = (e: KeyboardEvent) => {
    // The Fit button's keys are its own: Enter there fits, not a point at the crosshair.
    const key = e.target === stage ? crosshairKey(e) : null;
    if (!key) return;
    e.preventDefault();
    const at = crosshairStart(cross(), props.video);
    if (key.type === "leave") stage.blur();
    else if (key.type === "move") {
      const next = moveCrosshair(at, key.dx, key.dy, props.video);
      setCross(next);
      setSaid(crosshairWords(next));
      // Zoomed in, the view follows a crosshair moved past its edge.
      if (zoomed()) props.onView?.(panToShow(view(), fitRectOfStage(), videoToCanvas(next, fit()), size()));
    }
    // Exactly a click at the crosshair, the same `near` and all: Enter on a point removes it.
    // A held Enter would add and remove the same point over and over.
    else if (e.repeat || !editable()) return;
    else if (key.type === "box") void boxByKey(at);
    else void placeByKey(at, key.label);
  };

  const previewStyle = () => {
    const f = fit();
    const w = f.scaleX * props.video.width;
    const h = f.scaleY * props.video.height;
    return { left: `${f.x}px`, top: `${f.y}px`, width: `${w}px`, height: `${h}px` };
  };

  return (
    <div
      class={`stage ${editable() ? "editable" : ""} ${hover() ? "over-point" : ""} ${panning() ? "panning" : ""}`}
      ref={stage}
      data-testid="stage"
      tabIndex={0}
      role="application"
      aria-label="Frame: arrow keys move the crosshair (Shift: 1 pixel), Enter adds a point, Shift+Enter a negative one, Enter on a point removes it, B at two opposite corners draws a box"
      onFocus={() => {
        setCross(crosshairStart(cross(), props.video));
        setFocused(true);
      }}
      onBlur={() => {
        setFocused(false);
        setCorner(null);
      }}
      onKeyDown={onKey}
      // A click on the frame leaves the focus where it went before the stage could take it (to
      // the page): the arrows keep stepping frames after a click, the crosshair is the keyboard's.
      onMouseDown={(e) => {
        e.preventDefault();
        if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
        swallow = e.button === 0 && e.shiftKey;
        if (e.button === 1 || swallow) startPan(e);
        // Alt+click stays a negative point, however the hand shakes.
        else if (e.button === 0 && !e.altKey && editable()) startBox(e);
      }}
    >
      <canvas
        ref={canvas}
        class="frame-canvas"
        data-testid="frame-canvas"
        data-frame={props.frameIndex}
        data-mode={props.mode}
        data-loaded={loaded() ? "true" : "false"}
        data-scale-x={fit().scaleX.toFixed(4)}
        data-scale-y={fit().scaleY.toFixed(4)}
        data-zoom={view().zoom.toFixed(4)}
        data-pan-x={tenths(view().x * fitRectOfStage().width)}
        data-pan-y={tenths(view().y * fitRectOfStage().height)}
        onClick={(e) => {
          e.preventDefault();
          if (swallow) return void (swallow = false);
          place(e, e.altKey ? "negative" : "positive");
        }}
        onContextMenu={(e) => {
          e.preventDefault();
          place(e, "negative");
        }}
        onMouseMove={(e) => {
          const m = editable() ? nearestMarker(localPos(e)) : null;
          const h = m ? { objectId: m.objectId, index: m.index } : null;
          const cur = hover();
          if (h?.objectId !== cur?.objectId || h?.index !== cur?.index) setHover(h);
        }}
        onMouseLeave={() => setHover(null)}
      />
      <Show when={props.mode === "off" ? props.previewUrl : null}>{(url) => <PreviewLayer url={url()} style={previewStyle()} />}</Show>
      <svg class="markers" width={size().width} height={size().height} aria-hidden="true">
        <For each={props.boxes ?? []}>
          {(b) => {
            const r = () => rectOf(videoToCanvas({ x: b.box.x0, y: b.box.y0 }, fit()), videoToCanvas({ x: b.box.x1, y: b.box.y1 }, fit()));
            return (
              <g
                class={`box-marker ${b.selected ? "" : "dim"}`}
                data-testid="box-marker"
                data-object-id={b.objectId}
                data-box={[b.box.x0, b.box.y0, b.box.x1, b.box.y1].join(",")}
              >
                <rect {...r()} fill="none" stroke="rgba(0,0,0,0.55)" stroke-width="4" />
                <rect {...r()} fill="none" stroke={b.color} stroke-width="2" />
              </g>
            );
          }}
        </For>
        <Show when={dragged()}>
          {(d) => <rect class="box-drag" data-testid="box-drag" {...rectOf(d().from, d().to)} fill="none" stroke="#fff" stroke-width="1.5" stroke-dasharray="5 3" />}
        </Show>
        <Show when={focused() ? corner() : null}>
          {(at) => {
            const c = () => videoToCanvas(at(), fit());
            return <path data-testid="box-corner" d={`M${c().x - 8},${c().y} H${c().x + 8} M${c().x},${c().y - 8} V${c().y + 8}`} stroke="#facc15" stroke-width="2" />;
          }}
        </Show>
        <For each={props.markers}>
          {(m) => (
            <PointMarker
              marker={m}
              at={videoToCanvas(m.point, fit())}
              hover={[hover(), crossTarget()].some((h) => h?.objectId === m.objectId && h?.index === m.index)}
            />
          )}
        </For>
        <Show when={focused() ? cross() : null}>
          {(at) => {
            const c = () => videoToCanvas(at(), fit());
            return (
              <g class="crosshair" data-testid="crosshair" data-x={at().x} data-y={at().y} transform={`translate(${c().x} ${c().y})`}>
                <path d="M-14,0 H-4 M4,0 H14 M0,-14 V-4 M0,4 V14" stroke="rgba(0,0,0,0.7)" stroke-width="4" />
                <path d="M-14,0 H-4 M4,0 H14 M0,-14 V-4 M0,4 V14" stroke="#fff" stroke-width="2" />
              </g>
            );
          }}
        </Show>
      </svg>
      <For each={editable() ? (props.boxes ?? []) : []}>
        {(b) => {
          const at = () => videoToCanvas({ x: b.box.x1, y: b.box.y0 }, fit());
          return (
            <button
              type="button"
              class="box-remove"
              data-testid="box-remove"
              data-object-id={b.objectId}
              title="Remove this box (Ctrl+Z brings it back)"
              aria-label={`Remove the box of ${props.nameOf(b.objectId)}`}
              style={{ left: `${at().x}px`, top: `${at().y}px`, "border-color": b.color }}
              // Not a press on the frame: no drag, no pan, the focus stays.
              onMouseDown={(e) => e.stopPropagation()}
              onClick={() => {
                props.onRemoveBox?.(b.objectId);
                setSaid(`Box of ${props.nameOf(b.objectId)} removed (Ctrl+Z brings it back)`);
              }}
            >
              ×
            </button>
          );
        }}
      </For>
      <Show when={props.summary}>
        <div class="stage-summary" data-testid="frame-summary">
          {props.summary}
        </div>
      </Show>
      <div class="visually-hidden" role="status" aria-live="polite" data-testid="stage-announcement">
        {said()}
      </div>
      <div class="stage-status">
        <Show when={props.previewLoading}>
          <span class="pill" data-testid="preview-spinner">
            <Spinner label="Computing preview" /> preview
          </span>
        </Show>
        <Show when={props.frameLoading && drawn()}>
          <span class="pill">
            <Spinner label="Loading frame" />
          </span>
        </Show>
      </div>
      <Show when={zoomed()}>
        <div class="stage-zoom" data-testid="stage-zoom" onMouseDown={(e) => e.stopPropagation()}>
          <span>{Math.round(view().zoom * 100)}%</span>
          <button type="button" class="btn btn-small" data-testid="zoom-fit" title="Fit the frame to the stage (0)" onClick={(e) => {
              props.onView?.(FIT_VIEW);
              // The button goes with the zoom: from the keyboard, the focus stays on the stage.
              if (e.detail === 0) stage.focus();
            }}
          >
            Fit
          </button>
        </div>
      </Show>
      <Show when={props.badge}>
        <div class="stage-badge" data-testid="stage-badge">
          {props.badge}
        </div>
      </Show>
      <Show when={!drawn()}>
        <div class="stage-empty">
          <Show when={props.frameLoading} fallback={<span data-testid="frame-not-loaded">Frame {props.frameIndex} could not be loaded</span>}>
            <Spinner label="Loading frame" />
          </Show>
        </div>
      </Show>
    </div>
  );
}
