import { Show } from "solid-js";
import { online, type Health } from "../api";

/** The top bar's server pill: device and model while the server answers; while it does not
 * (api.ts `online`), that the connection is lost, and it turns back once the server answers. */
export function HealthPill(props: { health: Health | null }) {
  return (
    <Show
      when={online()}
      fallback={
        <span class="pill pill-error" data-testid="health" data-online="false" role="status" title="The server does not answer; asking it again every few seconds">
          <span class="dot dot-offline" />
          offline — reconnecting…
        </span>
      }
    >
      <Show when={props.health}>
        {(h) => (
          <span class="pill" data-testid="health" data-online="true" role="status" title={`matting head: ${h().matting_head} · version ${h().version}`}>
            <span class={`dot ${h().device === "cuda" ? "dot-gpu" : ""}`} />
            {h().device.toUpperCase()} · SAM2 {h().sam2_model}
            {h().sam2_test_model ? " (test model)" : ""}
          </span>
        )}
      </Show>
    </Show>
  );
}
