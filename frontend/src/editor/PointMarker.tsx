import { Show } from "solid-js";
import type { Marker } from "../components/FrameStage";
import type { Vec } from "../geometry";

/** One clicked point on the stage: its object's colour, a green (+) or red (−) ring, an ✕ under
 * the pointer (a click removes it), a dashed ring while the server does not have it. */
export function PointMarker(props: { marker: Marker; at: Vec; hover: boolean }) {
  const m = () => props.marker;
  const r = () => (props.hover ? 10 : 8);
  return (
    <g
      class={`point-marker ${m().selected ? "" : "dim"} ${props.hover ? "hover" : ""} ${m().unsaved ? "unsaved" : ""}`}
      data-testid="point-marker"
      data-unsaved={m().unsaved ? "true" : "false"}
      data-label={m().point.label}
      data-object-id={m().objectId}
      data-x={m().point.x}
      data-y={m().point.y}
      transform={`translate(${props.at.x} ${props.at.y})`}
    >
      <circle r={r()} fill="none" stroke="rgba(0,0,0,0.55)" stroke-width="5" />
      <circle r={r()} fill={m().color} stroke={m().point.label === "positive" ? "#22c55e" : "#ef4444"} stroke-width="3" />
      <Show when={!props.hover} fallback={<path d="M-4,-4 L4,4 M4,-4 L-4,4" stroke="#fff" stroke-width="2" stroke-linecap="round" />}>
        <path d={m().point.label === "positive" ? "M-3.5,0 H3.5 M0,-3.5 V3.5" : "M-3.5,0 H3.5"} stroke="#fff" stroke-width="2" stroke-linecap="round" />
      </Show>
    </g>
  );
}
