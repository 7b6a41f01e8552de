import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createSignal } from "solid-js";
import { describe, expect, it, vi } from "vitest";
import type { Track } from "../track";
import { TrackBar } from "./TrackBar";

const track: Track = {
  project_id: "p_1",
  status: "running",
  start: 0,
  end: 9,
  object_ids: [1],
  mask_width: 96,
  mask_height: 64,
  run: { start: 0, end: 9, object_ids: [1] },
  frames_done: 5,
  frames_total: 10,
  fps: 4,
  eta_seconds: 1.2,
  error: null,
  stale: false,
  tracked: [[0, 4]],
  flags: [],
};

describe("TrackBar", () => {
  it("starts a track only when there are points", () => {
    const onTrack = vi.fn();
    const { unmount } = render(() => <TrackBar objects={[]} track={null} canTrack={false} starting={false} onTrack={onTrack} onCancel={() => {}} />);
    expect((screen.getByTestId("track-start") as HTMLButtonElement).disabled).toBe(true);
    unmount();
    render(() => <TrackBar objects={[]} track={null} canTrack={true} starting={false} onTrack={onTrack} onCancel={() => {}} />);
    fireEvent.click(screen.getByTestId("track-start"));
    expect(onTrack).toHaveBeenCalledOnce();
  });

  it("says on its button which frames it tracks: In..Out, or the whole clip", () => {
    const { unmount } = render(() => <TrackBar objects={[]} track={null} canTrack={true} range={{ start: 20, end: 30 }} starting={false} onTrack={() => {}} onCancel={() => {}} />);
    expect(screen.getByTestId("track-start").title).toBe("Track the points over frames 20–30 (In/Out) with SAM2, without matting");
    unmount();
    render(() => <TrackBar objects={[]} track={null} canTrack={true} starting={false} onTrack={() => {}} onCancel={() => {}} />);
    expect(screen.getByTestId("track-start").title).toBe("Track the points over the whole clip with SAM2, without matting");
  });

  it("cannot be pressed again while a start is on its way", () => {
    const onTrack = vi.fn();
    render(() => <TrackBar objects={[]} track={null} canTrack={true} starting={true} onTrack={onTrack} onCancel={() => {}} />);
    const button = screen.getByTestId("track-start") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(button.getAttribute("aria-busy")).toBe("true");
    fireEvent.click(button);
    expect(onTrack).not.toHaveBeenCalled();
  });

  it("shows progress with a cancel button while running", () => {
    const onCancel = vi.fn();
    render(() => <TrackBar objects={[]} track={track} canTrack={true} starting={false} onTrack={() => {}} onCancel={onCancel} />);
    expect(screen.queryByTestId("track-start")).toBeNull();
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("50");
    expect(screen.getByTestId("track-status").textContent).toMatch(/^5 \/ 10 frames · 4\.0 fps/);
    fireEvent.click(screen.getByTestId("track-cancel"));
    expect(onCancel).toHaveBeenCalledOnce();
  });

  it("says when the track is stale", () => {
    render(() => <TrackBar objects={[]} track={{ ...track, status: "done", stale: true }} canTrack={true} starting={false} onTrack={() => {}} onCancel={() => {}} />);
    expect(screen.getByTestId("track-stale").textContent).toBe("track is stale");
    expect(screen.getByTestId("track-status").textContent).toBe("tracked 0–9");
  });

  it("names objects in a track's error as the object list does, with no project id", () => {
    const error = "object 2 is not in the track of project 'p_4f9a2c0b1d3e' (deleted meanwhile)";
    const objects = [{ id: 2, project_id: "p_4f9a2c0b1d3e", name: "Dog", color: "#3ba4ff" }];
    render(() => <TrackBar objects={objects} track={{ ...track, status: "failed", error }} canTrack={true} starting={false} onTrack={() => {}} onCancel={() => {}} />);
    expect(screen.getByTestId("track-status").textContent).toBe('failed: "Dog" is not in the track of the project (deleted meanwhile)');
  });

  it("says why a track was interrupted and what to do", () => {
    const error = "the server stopped while this track ran (a crash or a kill): press Track to run it again";
    render(() => <TrackBar objects={[]} track={{ ...track, status: "interrupted", error }} canTrack={true} starting={false} onTrack={() => {}} onCancel={() => {}} />);
    expect(screen.getByTestId("track-status").textContent).toBe(`interrupted: ${error}`);
    expect((screen.getByTestId("track-start") as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("Transport with a track's flags", () => {
  /** The transport of an 11-frame clip at `frame()` with one flag on frame 5. */
  async function renderFlagged(frame: () => number, onSeek: (f: number) => void = () => {}) {
    const { Transport } = await import("./Transport");
    render(() => (
      <Transport
        frame={frame()}
        frameCount={11}
        fps={25}
        playing={false}
        markers={[]}
        range={null}
        flags={[{ frame: 5, why: "Dog: lost" }]}
        onSeek={onSeek}
        onStep={() => {}}
        onPlay={() => {}}
      />
    ));
  }

  it("marks each flagged frame under the seek bar with its reasons; a click on one goes there", async () => {
    const onSeek = vi.fn();
    await renderFlagged(() => 0, onSeek);
    const flag = screen.getByTestId("seek-flag");
    expect(flag.dataset.frame).toBe("5");
    expect(flag.style.left).toBe("50%");
    expect(flag.title).toBe("Check frame 5: Dog: lost");
    fireEvent.click(flag);
    expect(onSeek).toHaveBeenCalledWith(5);
  });

  it("says on the slider what to check on a flagged frame (flags are not focusable)", async () => {
    const [frame, setFrame] = createSignal(0);
    await renderFlagged(frame);
    const slider = screen.getByTestId("seek");
    expect(slider.getAttribute("aria-valuetext")).toBe("Frame 0");
    setFrame(5);
    expect(slider.getAttribute("aria-valuetext")).toBe("Frame 5 — check Dog: lost");
  });
});
