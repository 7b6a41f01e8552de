import { createRoot } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { projectGone } from "../api";
import type { Track } from "../track";
import { createTrackState, type TrackApi } from "./track";

const base: Track = {
  project_id: "p",
  status: "running",
  start: 0,
  end: 9,
  object_ids: [1],
  mask_width: 96,
  mask_height: 64,
  run: { start: 0, end: 9, object_ids: [1] },
  frames_done: 0,
  frames_total: 10,
  fps: null,
  eta_seconds: null,
  error: null,
  stale: false,
  tracked: [],
  flags: [],
};

/** A track state over a server that starts `base`; `push` delivers what its follower sees next. */
function followedState() {
  let push!: (t: Track | null) => void;
  const server: TrackApi = { get: async () => null, start: async () => base, cancel: async () => ({ ...base, status: "cancelled" }) };
  const state = createRoot(() =>
    createTrackState("p", () => {}, {
      server,
      follow: (_pid, onTrack) => {
        push = onTrack;
        return () => {};
      },
    }),
  );
  return { state, push: (t: Track | null) => push(t) };
}

describe("track state", () => {
  it("follows a started track, shows masks of tracked frames, and a finished run's masks load anew", async () => {
    const { state, push } = followedState();
    await state.start(0, 9);
    expect(state.track()?.status).toBe("running");
    expect(state.overlay(3)).toBeNull();
    push({ ...base, frames_done: 4, tracked: [[0, 3]] });
    const during = state.overlay(3);
    expect(during).toMatch(/\/api\/projects\/p\/track\/masks\/3\?v=\d+$/);
    push({ ...base, status: "done", frames_done: 10, tracked: [[0, 9]] });
    expect(state.overlay(3)).not.toBe(during);
    expect(state.overlay(9)).not.toBeNull();
  });

  it("refuses to start while clicks are not saved (held for the server's return, a full disk), naming them, and asks the server nothing", async () => {
    const started: string[] = [];
    const refused: string[] = [];
    const server: TrackApi = { get: async () => null, start: async () => (started.push("start"), base), cancel: async () => base };
    const state = createRoot(() =>
      createTrackState("p", () => {}, { server, follow: () => () => {}, notSaved: () => "2 clicks are not saved yet.", refuse: (t) => refused.push(t) }),
    );
    await state.start(0, 9);
    expect([started, refused, state.track(), state.starting()]).toEqual([[], ["2 clicks are not saved yet."], null, false]);
  });

  it("judges the clicks once the saves under way landed: one held meanwhile (the server went away) refuses the start", async () => {
    let held: string | null = null;
    const refused: string[] = [];
    const server: TrackApi = { get: async () => null, start: async () => base, cancel: async () => base };
    const state = createRoot(() =>
      createTrackState("p", () => {}, {
        server,
        follow: () => () => {},
        ready: async () => void (held = "1 click is not saved yet."),
        notSaved: () => held,
        refuse: (t) => refused.push(t),
      }),
    );
    await state.start(0, 9);
    expect([refused, state.track()]).toEqual([["1 click is not saved yet."], null]);
  });

  it("a read answered late never puts back an older track than one shown since", async () => {
    // A save re-reads the track (is it stale now?) while it runs; the run ends, as its events
    // say, before that read's answer (made while it still ran) arrives.
    let push!: (t: Track | null) => void;
    const answers: ((t: Track | null) => void)[] = [];
    const server: TrackApi = {
      get: () => new Promise<Track | null>((resolve) => answers.push(resolve)),
      start: async () => base,
      cancel: async () => base,
    };
    const state = createRoot(() =>
      createTrackState("p", () => {}, {
        server,
        recorded: async () => true,
        follow: (_pid, onTrack) => ((push = onTrack), () => {}),
      }),
    );
    await state.start(0, 9);
    const read = state.refresh();
    await vi.waitFor(() => expect(answers).toHaveLength(1));
    push({ ...base, status: "done", frames_done: 10, tracked: [[0, 9]] });
    answers[0]({ ...base, frames_done: 6, tracked: [[0, 5]] });
    await read;
    expect(state.track()?.status).toBe("done");
    // Two reads answered out of order: the later one asked stands.
    const first = state.refresh();
    const second = state.refresh();
    await vi.waitFor(() => expect(answers).toHaveLength(3));
    answers[2]({ ...base, status: "done", stale: true, tracked: [[0, 9]] });
    await second;
    answers[1]({ ...base, status: "done", stale: false, tracked: [[0, 9]] });
    await first;
    expect(state.track()?.stale).toBe(true);
  });

  it("a track over another range (In/Out) loads its masks anew, not the old track's from the browser's copy", async () => {
    const done: Track = { ...base, status: "done", tracked: [[0, 9]] };
    let stored = done;
    const server: TrackApi = { get: async () => stored, start: async () => done, cancel: async () => done };
    const state = createRoot(() => createTrackState("p", () => {}, { server, recorded: async () => true }));
    await state.refresh();
    const old = state.overlay(5);
    stored = { ...done, start: 4, end: 8, run: { start: 4, end: 8, object_ids: [1] }, tracked: [[4, 8]] };
    await state.refresh();
    expect(state.overlay(5)).not.toBeNull();
    expect(state.overlay(5)).not.toBe(old);
  });

  it("a track that lost an object (deleted) loads its masks anew; one with no object left shows none", async () => {
    const done: Track = { ...base, status: "done", object_ids: [1, 2], run: { start: 0, end: 9, object_ids: [1, 2] }, tracked: [[0, 9]] };
    let stored = done;
    const server: TrackApi = { get: async () => stored, start: async () => done, cancel: async () => done };
    const state = createRoot(() => createTrackState("p", () => {}, { server, recorded: async () => true }));
    await state.refresh();
    const both = state.overlay(3);
    expect(both).not.toBeNull();
    await state.refresh();
    expect(state.overlay(3)).toBe(both); // nothing changed: the browser's copy serves
    stored = { ...done, object_ids: [1], run: { ...done.run, object_ids: [1] } };
    await state.refresh();
    expect(state.overlay(3)).not.toBe(both);
    expect(state.overlay(3)).not.toBeNull();
    stored = { ...done, object_ids: [], run: { ...done.run, object_ids: [] }, tracked: [] };
    await state.refresh();
    expect(state.overlay(3)).toBeNull();
  });

  it("reads nothing once the project is left: a refresh asked after (an object's delete answered then) or while asking whether it has a track", async () => {
    const read: string[] = [];
    const server: TrackApi = { get: async () => (read.push("get"), base), start: async () => base, cancel: async () => base };
    let answer!: (has: boolean) => void;
    const leave: (() => void)[] = [];
    const tracked = createRoot((dispose) => (leave.push(dispose), createTrackState("p", () => {}, { server, follow: () => () => {} })));
    await tracked.start(0, 9);
    const asking = createRoot((dispose) => (leave.push(dispose), createTrackState("p", () => {}, { server, recorded: () => new Promise((r) => (answer = r)) })));
    const refreshed = asking.refresh();
    leave.forEach((dispose) => dispose());
    answer(true);
    await Promise.all([refreshed, tracked.refresh()]);
    expect(read).toEqual([]);
  });

  it("reports what the server refused", async () => {
    const reports: string[] = [];
    const server: TrackApi = {
      get: async () => null,
      start: () => Promise.reject(new Error("no points to track")),
      cancel: async () => base,
    };
    const state = createRoot(() =>
      createTrackState("p", (e, title) => reports.push(`${title}: ${(e as Error).message}`), { server, recorded: async () => true }),
    );
    await state.start(0, 9);
    expect(reports).toEqual(["Could not start tracking: no points to track"]);
    await state.refresh();
    expect(state.track()).toBeNull();
  });

  describe("reading the track", () => {
    /** A track state over a server whose track is `stored`; what it was asked, in order. */
    function reading(stored: Track | null, hasTrack: boolean) {
      const asked: string[] = [];
      const server: TrackApi = {
        get: async () => (asked.push("track"), stored),
        start: async () => (asked.push("start"), base),
        cancel: async () => base,
      };
      const reports: string[] = [];
      const state = createRoot(() =>
        createTrackState("p", (_e, title) => reports.push(title), {
          server,
          follow: () => (asked.push("follow"), () => {}),
          recorded: async () => (asked.push("project"), hasTrack),
        }),
      );
      return { state, asked, reports };
    }

    it("of a project never tracked asks the project only: the track's GET would be a 404", async () => {
      const { state, asked, reports } = reading(null, false);
      await state.refresh(true);
      expect(asked).toEqual(["project"]);
      expect(state.track()).toBeNull();
      expect(reports).toEqual([]);
    });

    it("of a project that has a track reads it, and follows it while it runs", async () => {
      const { state, asked } = reading(base, true);
      await state.refresh(true);
      expect(asked).toEqual(["project", "track", "follow"]);
      expect(state.track()?.status).toBe("running");
    });

    it("of a project deleted meanwhile says it is gone and reports nothing else", async () => {
      vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ detail: "project 'q' does not exist" }), { status: 404 })));
      const reports: string[] = [];
      const state = createRoot(() => createTrackState("q", (_e, title) => reports.push(title)));
      await state.refresh();
      vi.unstubAllGlobals();
      expect(projectGone()).toBe("q");
      expect(state.track()).toBeNull();
      expect(reports).toEqual([]); // the view says the project is gone: no "Could not read the track"
    });

    it("once a track is shown reads it again without asking the project", async () => {
      const { state, asked } = reading({ ...base, status: "done" }, false);
      await state.start(0, 9);
      await state.refresh();
      expect(asked).toEqual(["start", "follow", "track"]);
      expect(state.track()?.status).toBe("done");
    });
  });

  it("a double click starts one track: a second start waits for the first to be answered", async () => {
    const asked: string[] = [];
    let saved!: () => void;
    let answer!: (t: Track) => void;
    const server: TrackApi = {
      get: async () => null,
      start: (pid, start, end) => (asked.push(`${pid} ${start}-${end}`), new Promise<Track>((r) => (answer = r))),
      cancel: async () => base,
    };
    const state = createRoot(() =>
      createTrackState("p", () => {}, { server, follow: () => () => {}, ready: () => new Promise<void>((r) => (saved = r)) }),
    );
    const first = state.start(0, 9);
    expect(state.starting()).toBe(true); // from the click on, while the points are still saving
    const second = state.start(0, 9);
    saved();
    await new Promise((r) => setTimeout(r, 0));
    void state.start(0, 9);
    expect(asked).toEqual(["p 0-9"]);
    answer(base);
    await Promise.all([first, second]);
    expect(state.starting()).toBe(false);
    expect(state.track()?.status).toBe("running");
  });

  it("after a refused start, Track can be pressed again", async () => {
    let calls = 0;
    const server: TrackApi = {
      get: async () => null,
      start: () => (++calls === 1 ? Promise.reject(new Error("busy")) : Promise.resolve(base)),
      cancel: async () => base,
    };
    const state = createRoot(() => createTrackState("p", () => {}, { server, follow: () => () => {} }));
    await state.start(0, 9);
    expect(state.starting()).toBe(false);
    await state.start(0, 9);
    expect(calls).toBe(2);
    expect(state.track()?.status).toBe("running");
  });

  describe("a track that ends without this editor's cancel", () => {
    afterEach(() => vi.unstubAllGlobals());

    /** A started track, followed; `end` pushes what the follower delivers next. */
    async function followed() {
      const fetchMock = vi.fn(async () => new Response(JSON.stringify({ detail: "project 'p' does not exist" }), { status: 404 }));
      vi.stubGlobal("fetch", fetchMock);
      const { state, push } = followedState();
      await state.start(0, 9);
      return { state, end: push, projectAsked: () => fetchMock.mock.calls.length };
    }

    it("cancelled (the server ends a deleted project's track so) asks whether the project still exists", async () => {
      const { state, end, projectAsked } = await followed();
      end({ ...base, status: "cancelled", frames_done: 4 });
      expect(state.track()?.status).toBe("cancelled");
      await vi.waitFor(() => expect(projectGone()).toBe("p"));
      expect(projectAsked()).toBe(1);
    });

    it("gone altogether asks too", async () => {
      const { state, end, projectAsked } = await followed();
      end(null);
      expect(state.track()).toBeNull();
      await vi.waitFor(() => expect(projectAsked()).toBe(1));
    });

    it("done asks nothing", async () => {
      const { end, projectAsked } = await followed();
      end({ ...base, status: "done", frames_done: 10, tracked: [[0, 9]] });
      await new Promise((r) => setTimeout(r, 0));
      expect(projectAsked()).toBe(0);
    });
  });
});
