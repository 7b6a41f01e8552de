import { createRoot, createSignal } from "solid-js";
import { describe, expect, it, vi } from "vitest";
import { pendingConfirm } from "../confirm";
import { toasts } from "../toasts";
import { createActions } from "./actions";
import { createInOut } from "./inout";
import { createObjects, type ObjectApi } from "./objects";
import { createPrompts } from "./prompts";
import { BUSY_RETRY_MS, PromptSaver, type SaverDeps } from "./saving";
import { ApiError, errorText, type MatteObject } from "../api";
import type { Previews } from "./previews";
import { near } from "../test/near";
import type { Track } from "../track";

function setup(
  deleteObject: ObjectApi["deleteObject"] = async () => undefined,
  put: SaverDeps["put"] = async () => undefined,
  createObject: ObjectApi["createObject"] = async (pid) => ({ id: 1, project_id: pid, name: "Object 1", color: "#ff5a5f" }),
  online: () => boolean = () => true,
  updateObject: ObjectApi["updateObject"] = async () => ({ id: 1, project_id: "p", name: "x", color: "#000000" }),
) {
  return createRoot(() => {
    const [frame, setFrame] = createSignal(0);
    const server: ObjectApi = {
      createObject,
      updateObject,
      deleteObject,
    };
    const objects = createObjects("p", server);
    const refused: string[] = [];
    const told: string[] = [];
    const saver = new PromptSaver({ put, online, onSaved: () => {}, onRefused: (e, oid, f) => refused.push(`${oid}:${f} ${errorText(e)}`), onDiskFull: (e) => told.push(errorText(e)) });
    const prompts = createPrompts({ saver, repreview: () => {}, refuse: () => {} });
    const previews = { refresh: vi.fn(async () => {}), dropExcept: vi.fn() } as unknown as Previews;
    const playback = { toggle: vi.fn() };
    const results = { cycle: vi.fn(() => false) };
    const flags: Track["flags"] = [
      { frame: 12, object_id: 1, reason: "lost" },
      { frame: 12, object_id: 2, reason: "moved" },
      { frame: 30, object_id: 1, reason: "area jump" },
    ];
    const track = { track: () => ({ flags }) as Track, refresh: vi.fn(async () => {}) };
    const inout = createInOut("p", () => 50, null);
    const reported: string[] = [];
    const actions = createActions({ frame, setFrame, frameCount: () => 50, loaded: () => true, objects, prompts, saver, previews, playback, results, track, inout, report: (e, title) => reported.push(`${title}: ${errorText(e)}`), closed: new AbortController().signal });
    return { actions, frame, prompts, playback, results, previews, inout, objects, refused, saver, told, reported };
  });
}

const targets = { openMatting: vi.fn(), openHelp: vi.fn(), toggleMask: vi.fn(), zoom: vi.fn(), zoomFit: vi.fn(), goto: vi.fn() };

describe("editor actions", () => {
  it("a click on an empty project makes an object and puts the point on the current frame", async () => {
    const s = setup();
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    expect([...s.prompts.points().keys()]).toEqual(["1:0"]);
  });

  it("a click goes to the frame it was made on, even when the frame moves while its object is made", async () => {
    const s = setup();
    const clicked = s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.run({ type: "step", delta: 1 }, targets); // → pressed at once, on a slow link
    await clicked;
    expect([...s.prompts.points().keys()]).toEqual(["1:0"]);
  });

  it("a first click whose object the full disk refused is held with the points, and made with its point, in click order, at Retry once room is made", async () => {
    const full = "not enough disk space in the data dir: free some space, then try again";
    let room = false;
    let creates = 0;
    const puts: string[] = [];
    const s = setup(
      undefined,
      async (oid, f, pts) => void puts.push(`${oid}:${f}=${pts.map((q) => q.x).join(",")}`),
      async (pid) => {
        creates++;
        if (!room) throw new ApiError(507, full);
        return { id: 1, project_id: pid, name: "Object 1", color: "#ff5a5f" };
      },
    );
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.run({ type: "step", delta: 3 }, targets);
    await s.actions.point({ x: 7, y: 8 }, "positive", near({ x: 7, y: 8 }, 4)); // a second, into the same full disk
    // Held, as refused points are: counted unsaved, told once with the way out, not dropped.
    expect([s.saver.diskFull(), s.saver.heldEdits(), s.saver.holding(), s.saver.settled()]).toEqual([true, 2, true, false]);
    expect(s.told).toEqual([`${full} Deleting old projects or jobs (which works while the disk is full) makes room.`]);
    expect(s.reported).toEqual([]);
    expect(s.prompts.points().size).toBe(0);
    // Retry into a disk still full: held again, told again (as held points are), nothing lost.
    await s.saver.retry();
    expect([s.saver.heldEdits(), s.told.length, creates]).toEqual([2, 2, 3]);
    room = true;
    await s.saver.retry();
    await s.saver.idle();
    // One object for both, each point on the frame it was clicked on.
    expect([creates, s.objects.list().map((o) => o.id)]).toEqual([4, [1]]);
    expect([...s.prompts.points().keys()]).toEqual(["1:0", "1:3"]);
    expect(puts).toEqual(["1:0=5", "1:3=7"]);
    expect([s.saver.diskFull(), s.saver.heldEdits(), s.saver.settled()]).toEqual([false, 0, true]);
  });

  it("a click after a held first click goes behind it: the next click sends the held one first, once room is made", async () => {
    let room = false;
    const puts: string[] = [];
    const s = setup(
      undefined,
      async (oid, f, pts) => void puts.push(`${oid}:${f}=${pts.map((q) => q.x).join(",")}`),
      async (pid) => {
        if (!room) throw new ApiError(507, "not enough disk space in the data dir: free some space, then try again");
        return { id: 1, project_id: pid, name: "Object 1", color: "#ff5a5f" };
      },
    );
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    room = true;
    await s.actions.point({ x: 50, y: 6 }, "positive", near({ x: 50, y: 6 }, 4));
    await vi.waitFor(() => expect(s.saver.settled()).toBe(true));
    expect(s.prompts.points().get("1:0")?.map((q) => q.x)).toEqual([5, 50]);
    expect(puts.at(-1)).toBe("1:0=5,50");
    expect(s.reported).toEqual([]);
  });

  /** A server that makes objects by Idempotency-Key (a retry of a key gets the object it made)
   * and can be down (`down`), or lose the answer of the object it made (`loseAnswer`). */
  function restartingServer() {
    const [up, setUp] = createSignal(true);
    const byKey = new Map<string, MatteObject>();
    const keys: (string | undefined)[] = [];
    const puts: string[] = [];
    let loseAnswer = false;
    let created = 0;
    const s = setup(
      undefined,
      async (oid, f, pts) => {
        if (!up()) throw new ApiError(0, "Cannot reach the server.");
        puts.push(`${oid}:${f}=${pts.map((q) => q.x).join(",")}`);
      },
      async (pid, _body, key) => {
        keys.push(key);
        if (!up() && !loseAnswer) throw new ApiError(0, "Cannot reach the server.");
        const o = (key && byKey.get(key)) || { id: ++created, project_id: pid, name: `Object ${created}`, color: "#ff5a5f" };
        if (key) byKey.set(key, o);
        if (loseAnswer) {
          loseAnswer = false;
          setUp(false); // made, then the server went down before its answer left
          throw new ApiError(0, "Cannot reach the server.");
        }
        return o;
      },
      up,
    );
    return { s, setUp, keys, puts, made: () => byKey.size, loseNextAnswer: () => (loseAnswer = true) };
  }

  it("a first click while the server is unreachable is held with its object and made once it is back, in click order, its object once (the same Idempotency-Key)", async () => {
    const { s, setUp, keys, puts, made, loseNextAnswer } = restartingServer();
    loseNextAnswer(); // the object is made, its answer lost as the server restarts
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.run({ type: "step", delta: 3 }, targets);
    await s.actions.point({ x: 7, y: 8 }, "positive", near({ x: 7, y: 8 }, 4));
    // Held, not reported: counted unsaved, nothing tried again while the server is away.
    expect(s.reported).toEqual([]);
    expect([s.saver.heldEdits(), s.saver.holding(), s.saver.diskFull(), keys.length]).toEqual([2, true, false, 1]);
    expect(s.prompts.points().size).toBe(0);
    setUp(true);
    await s.saver.retry(); // what the connection watch does when the server is back
    await s.saver.idle();
    expect(keys).toEqual([keys[0], keys[0]]);
    expect([made(), s.objects.list().map((o) => o.id)]).toEqual([1, [1]]);
    expect([...s.prompts.points().keys()]).toEqual(["1:0", "1:3"]);
    expect(puts).toEqual(["1:0=5", "1:3=7"]);
    expect([s.saver.heldEdits(), s.saver.settled(), s.reported]).toEqual([0, true, []]);
  });

  it("a first click while the server is known away is held without trying, and made once it is back", async () => {
    const { s, setUp, keys, made } = restartingServer();
    setUp(false);
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    await s.saver.retry(); // Retry while still away: not tried, not dropped
    expect([s.saver.heldEdits(), keys.length, s.reported]).toEqual([1, 0, []]);
    setUp(true);
    await s.saver.retry();
    await s.saver.idle();
    expect([made(), keys.length, [...s.prompts.points().keys()]]).toEqual([1, 1, ["1:0"]]);
  });

  it("a first click is counted unsaved, and guarded against leaving, from the moment of the click: while its object is being made too", async () => {
    let answer: (o: MatteObject) => void = () => {};
    const s = setup(undefined, undefined, () => new Promise<MatteObject>((r) => (answer = r)));
    const clicked = s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    await settle(); // made() is trying: the object is not answered yet
    expect([s.saver.heldEdits(), s.saver.holding(), s.saver.settled(), s.prompts.points().size]).toEqual([1, true, false, 0]);
    answer({ id: 1, project_id: "p", name: "Object 1", color: "#ff5a5f" });
    await clicked;
    await s.saver.idle();
    expect([s.saver.heldEdits(), s.saver.holding(), s.saver.settled(), [...s.prompts.points().keys()]]).toEqual([0, false, true, ["1:0"]]);
  });

  it("a first click whose object is still being made by the server (409 for its key) is held and asked again with the same key later, not dropped", async () => {
    vi.useFakeTimers();
    try {
      const keys: (string | undefined)[] = [];
      const s = setup(undefined, undefined, async (pid, _body, key) => {
        keys.push(key);
        if (keys.length === 1) throw new ApiError(409, `a request with Idempotency-Key '${key}' (POST /api/projects/p/objects) is still being answered: retry once it has finished`);
        return { id: 1, project_id: pid, name: "Object 1", color: "#ff5a5f" };
      });
      await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
      expect([s.reported, s.saver.heldEdits(), s.saver.holding(), s.prompts.points().size]).toEqual([[], 1, true, 0]);
      await vi.advanceTimersByTimeAsync(BUSY_RETRY_MS);
      expect([keys.length, keys[1], [...s.prompts.points().keys()], s.saver.heldEdits(), s.reported]).toEqual([2, keys[0], ["1:0"], 0, []]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a first click undone while the server is still making its object (409 for its key): the object is asked for until made, a stall is kept for Retry, and redo puts the click on that one object", async () => {
    vi.useFakeTimers();
    try {
      let finished = false;
      const keys: (string | undefined)[] = [];
      const s = setup(undefined, undefined, async (pid, _body, key) => {
        keys.push(key);
        if (!finished) throw new ApiError(409, `a request with Idempotency-Key '${key}' (POST /api/projects/p/objects) is still being answered: retry once it has finished`);
        return { id: 1, project_id: pid, name: "Object 1", color: "#ff5a5f" };
      });
      await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
      s.actions.undo();
      // No click waits (nothing unsaved, nothing to ask about on leaving), but the object does.
      expect([s.saver.heldEdits(), s.saver.holding(), s.actions.canRedo()]).toEqual([0, false, true]);
      await vi.advanceTimersByTimeAsync(2 * 60_000);
      // Asked for a minute, then kept for Retry: the toolbar says so (Toolbar.test), not silent.
      const asked = keys.length;
      expect([s.saver.objectWait(), new Set(keys).size, s.objects.list()]).toEqual(["stalled", 1, []]);
      finished = true; // the server made it meanwhile
      await vi.advanceTimersByTimeAsync(60_000);
      expect(keys.length).toBe(asked); // not asked forever
      await s.saver.retry();
      // Shown in the list, without the undone click's point.
      expect([s.saver.objectWait(), s.objects.list().map((o) => o.id), s.prompts.points().size]).toEqual([null, [1], 0]);
      s.actions.redo();
      await vi.advanceTimersByTimeAsync(0);
      await s.saver.idle();
      expect([new Set(keys).size, [...s.prompts.points().keys()], s.saver.settled(), s.reported]).toEqual([1, ["1:0"], true, []]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("clearing a frame takes back its clicks held while the server is away: they do not land once it is back, redo brings them back", async () => {
    const { s, setUp, puts } = restartingServer();
    setUp(false);
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.run({ type: "step", delta: 3 }, targets);
    await s.actions.point({ x: 7, y: 8 }, "positive", near({ x: 7, y: 8 }, 4));
    s.actions.run({ type: "first" }, targets);
    await s.actions.point({ x: 9, y: 8 }, "positive", near({ x: 9, y: 8 }, 4));
    expect(s.actions.canClear()).toBe(true); // the toolbar's Clear, as the key
    s.actions.run({ type: "clear-frame" }, targets);
    expect([toasts().at(-1)?.text, s.saver.heldEdits(), s.actions.canRedo(), s.actions.canClear()]).toEqual(["Cleared 2 clicks not saved yet.", 1, true, false]);
    setUp(true);
    await s.saver.retry();
    await s.saver.idle();
    expect([[...s.prompts.points().keys()], puts]).toEqual([["1:3"], ["1:3=7"]]);
    s.actions.redo();
    await s.saver.idle();
    await settle();
    expect([...s.prompts.points().keys()].sort()).toEqual(["1:0", "1:3"]);
  });

  it("undo takes back the last held first click, and its object is not made when no click needs it", async () => {
    const { s, setUp, keys, made } = restartingServer();
    setUp(false);
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    expect(s.actions.canUndo()).toBe(true);
    s.actions.undo();
    expect([s.saver.heldEdits(), s.saver.holding(), s.actions.canUndo(), s.actions.canRedo()]).toEqual([0, false, false, true]);
    setUp(true);
    await s.saver.retry();
    await s.saver.idle();
    expect([keys.length, made(), s.objects.list(), s.prompts.points().size]).toEqual([0, 0, [], 0]);
  });

  it("undo and redo of held clicks go last first, and a redone one is made in its turn, its object once", async () => {
    const { s, setUp, made, puts } = restartingServer();
    setUp(false);
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.run({ type: "step", delta: 3 }, targets);
    await s.actions.point({ x: 7, y: 8 }, "positive", near({ x: 7, y: 8 }, 4));
    s.actions.undo(); // takes back the click on frame 3
    expect(s.saver.heldEdits()).toBe(1);
    setUp(true);
    await s.saver.retry();
    await s.saver.idle();
    expect([made(), [...s.prompts.points().keys()], puts]).toEqual([1, ["1:0"], ["1:0=5"]]);
    s.actions.redo(); // the click on frame 3 again
    await vi.waitFor(() => expect([...s.prompts.points().keys()]).toEqual(["1:0", "1:3"]));
    await s.saver.idle();
    expect([made(), puts, s.saver.settled()]).toEqual([1, ["1:0=5", "1:3=7"], true]);
    s.actions.undo(); // now drawn: an ordinary undo
    expect([...s.prompts.points().keys()]).toEqual(["1:0"]);
  });

  it("a held first click undone, then redone after N added an object, goes to the object it was to make, not the one selected at redo", async () => {
    const { s, setUp, keys, puts } = restartingServer();
    setUp(false);
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.undo();
    setUp(true);
    await s.actions.addObject(); // N: "Object 1", selected
    expect(s.objects.list().map((o) => o.name)).toEqual(["Object 1"]);
    s.actions.redo();
    await vi.waitFor(() => expect(s.saver.settled()).toBe(true));
    // Its own new object (asked with its own key), its point on it; N's object keeps the selection.
    expect([keys.filter(Boolean).length, s.objects.list().map((o) => o.id), [...s.prompts.points().keys()], puts]).toEqual([1, [1, 2], ["2:0"], ["2:0=5"]]);
    expect(s.objects.selected()).toBe(1);
  });

  it("a held first click whose object's answer was lost gets that object (same key), shown at once with its point, also after N added another meanwhile", async () => {
    const { s, setUp, keys, puts, loseNextAnswer } = restartingServer();
    loseNextAnswer(); // object 1 is made for the click's key; its answer is lost
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    setUp(true);
    await s.actions.addObject(); // N while the click is held: object 2, selected
    expect(s.objects.list().map((o) => o.id)).toEqual([2]);
    await s.saver.retry();
    await s.saver.idle();
    expect([keys[0], keys.at(-1)]).toEqual([keys[0], keys[0]]);
    expect([s.objects.list().map((o) => o.id), [...s.prompts.points().keys()], puts, s.objects.selected()]).toEqual([[1, 2], ["1:0"], ["1:0=5"], 2]);
  });

  it("a held first click undone after its object's answer was lost: the object made for it is asked for again and shown (not left for a reload to find empty), without the point", async () => {
    const { s, setUp, keys, puts, loseNextAnswer } = restartingServer();
    loseNextAnswer();
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.undo();
    // Nothing unsaved is left: the click is taken back (Redo brings it back).
    expect([s.saver.heldEdits(), s.saver.holding(), s.actions.canUndo(), s.actions.canRedo()]).toEqual([0, false, false, true]);
    setUp(true);
    await s.saver.retry();
    await s.saver.idle();
    expect([keys.length, keys[1], s.objects.list().map((o) => o.id), s.prompts.points().size, puts]).toEqual([2, keys[0], [1], 0, []]);
    s.actions.redo(); // the click again, onto that object
    await vi.waitFor(() => expect([...s.prompts.points().keys()]).toEqual(["1:0"]));
    expect(keys.length).toBe(2);
  });

  it("a click held behind a first click goes to the object selected when it was made, and is dropped if that one is deleted meanwhile, not put on another", async () => {
    let answer: (o: MatteObject) => void = () => {};
    const puts: string[] = [];
    const s = setup(undefined, async (oid, f, pts) => void puts.push(`${oid}:${f}=${pts.map((q) => q.x).join(",")}`), () => new Promise<MatteObject>((r) => (answer = r)));
    const a = s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    await settle();
    s.objects.reset([{ id: 7, project_id: "p", name: "Hair", color: "#00ff00" }]); // another tab's, read again
    const b = s.actions.point({ x: 9, y: 6 }, "positive", near({ x: 9, y: 6 }, 4)); // held behind, on "Hair"
    s.objects.reset([]); // "Hair" deleted in the other tab
    answer({ id: 1, project_id: "p", name: "Object 1", color: "#ff5a5f" });
    await Promise.all([a, b]);
    await s.saver.idle();
    expect([puts, s.saver.settled()]).toEqual([["1:0=5"], true]);
  });

  it("the delete question counts the frames of the object's clicks held behind a first click (not drawn yet) with those of its points", async () => {
    const s = setup(undefined, undefined, () => new Promise<MatteObject>(() => {})); // the first click's object never answered
    void s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    await settle();
    s.objects.reset([{ id: 7, project_id: "p", name: "Hair", color: "#00ff00" }]); // another tab's, read again
    void s.actions.point({ x: 9, y: 6 }, "positive", near({ x: 9, y: 6 }, 4)); // held behind, on "Hair", frame 0
    s.actions.run({ type: "step", delta: 3 }, targets);
    void s.actions.point({ x: 9, y: 6 }, "positive", near({ x: 9, y: 6 }, 4)); // frame 3
    void s.actions.point({ x: 19, y: 6 }, "positive", near({ x: 19, y: 6 }, 4)); // frame 3 again: one frame
    const deleted = s.actions.deleteObject(7);
    expect(pendingConfirm()?.message).toBe("Its points on 2 frames are deleted too.");
    pendingConfirm()!.resolve(false);
    await deleted;
  });

  it("undo while a first click's object is being made takes the click back: the object comes, the point does not", async () => {
    let answer: (o: MatteObject) => void = () => {};
    const s = setup(undefined, undefined, () => new Promise<MatteObject>((r) => (answer = r)));
    const clicked = s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    await settle();
    s.actions.undo();
    expect([s.saver.heldEdits(), s.saver.holding()]).toEqual([0, false]);
    answer({ id: 1, project_id: "p", name: "Object 1", color: "#ff5a5f" });
    await clicked;
    expect([s.objects.list().map((o) => o.id), s.prompts.points().size, s.saver.settled()]).toEqual([[1], 0, true]);
  });

  it("a first click undone while its object was asked for, then refused for a full disk, is not told as kept: nothing is", async () => {
    let refuse: (e: unknown) => void = () => {};
    const s = setup(undefined, undefined, () => new Promise<MatteObject>((_r, reject) => (refuse = reject)));
    const clicked = s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    await settle();
    s.actions.undo();
    refuse(new ApiError(507, "not enough disk space in the data dir: free some space, then try again"));
    await clicked;
    expect([s.told, s.reported, s.saver.diskFull(), s.saver.heldEdits(), s.saver.settled()]).toEqual([[], [], false, 0, true]);
  });

  it("held clicks undone while the first one's object is being made: the object comes without them, and redo brings them back in click order", async () => {
    let answer: (o: MatteObject) => void = () => {};
    const puts: string[] = [];
    const s = setup(undefined, async (oid, f, pts) => void puts.push(`${oid}:${f}=${pts.map((q) => q.x).join(",")}`), () => new Promise<MatteObject>((r) => (answer = r)));
    const a = s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.run({ type: "step", delta: 3 }, targets);
    const b = s.actions.point({ x: 7, y: 8 }, "positive", near({ x: 7, y: 8 }, 4));
    await settle();
    expect(s.saver.heldEdits()).toBe(2);
    s.actions.undo();
    s.actions.undo();
    expect([s.saver.heldEdits(), s.actions.canUndo(), s.actions.canRedo()]).toEqual([0, false, true]);
    s.actions.undo();
    expect(toasts().at(-1)?.text).toBe("Nothing to undo.");
    answer({ id: 1, project_id: "p", name: "Object 1", color: "#ff5a5f" });
    await Promise.all([a, b]);
    expect([s.objects.list().length, s.prompts.points().size]).toEqual([1, 0]);
    s.actions.redo();
    s.actions.redo();
    await vi.waitFor(() => expect([...s.prompts.points().keys()]).toEqual(["1:0", "1:3"]));
    await s.saver.idle();
    expect([puts, s.actions.canRedo(), s.saver.settled()]).toEqual([["1:0=5", "1:3=7"], false, true]);
    s.actions.redo();
    expect(toasts().at(-1)?.text).toBe("Nothing to redo.");
    s.actions.undo();
    s.actions.undo();
    expect(s.prompts.points().size).toBe(0);
    s.actions.redo();
    expect([...s.prompts.points().keys()]).toEqual(["1:0"]);
  });

  /** An editor whose first click was saved and whose second the full disk refused (held);
   * `room()` makes room on it again. */
  async function secondClickHeldForRoom() {
    let full = false;
    const puts: string[] = [];
    const s = setup(undefined, async (oid, f, pts) => {
      if (full) throw new ApiError(507, "not enough disk space in the data dir: free some space, then try again");
      puts.push(`${oid}:${f}=${pts.length}`);
    });
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    await s.saver.idle();
    full = true;
    await s.actions.point({ x: 50, y: 6 }, "positive", near({ x: 50, y: 6 }, 4));
    await s.saver.idle();
    return { s, puts, room: () => void (full = false) };
  }

  it("deleting an object whose clicks are held for a full disk drops them: Retry sends none of them, none counted", async () => {
    const { s, puts, room } = await secondClickHeldForRoom();
    expect([s.saver.holding(), s.saver.diskFull()]).toEqual([true, true]);
    const deleted = s.actions.deleteObject(1); // deletes work on a full disk
    pendingConfirm()!.resolve(true);
    await deleted;
    expect([s.saver.holding(), s.saver.unsaved().size, s.prompts.points().size]).toEqual([false, 0, 0]);
    room();
    await s.saver.retry();
    await s.saver.idle();
    expect([puts, s.refused, s.saver.settled()]).toEqual([["1:0=1"], [], true]);
  });

  it("a rename, colour change or new object that lands once room is made sends the clicks held for the full disk, and the toolbar stops saying the disk is full", async () => {
    type S = ReturnType<typeof setup>;
    const writes = [(s: S) => s.actions.updateObject(1, { name: "Hair" }), (s: S) => s.actions.updateObject(1, { color: "#00ff00" }), (s: S) => s.actions.addObject()];
    for (const write of writes) {
      const { s, puts, room } = await secondClickHeldForRoom();
      expect([s.saver.diskFull(), s.saver.unsaved().size]).toEqual([true, 1]);
      room(); // this is the first write to land
      await write(s);
      await s.saver.idle();
      expect([s.saver.diskFull(), s.saver.unsaved().size, puts, s.reported]).toEqual([false, 0, ["1:0=1", "1:0=2"], []]);
    }
  });

  it("undo goes to the frame it changed", async () => {
    const s = setup();
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.run({ type: "last" }, targets);
    expect(s.frame()).toBe(49);
    s.actions.run({ type: "undo" }, targets);
    expect(s.frame()).toBe(0);
    expect(s.prompts.points().size).toBe(0);
  });

  it("redo goes to the frame it changed, and says when there is nothing to redo", async () => {
    const s = setup();
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    s.actions.run({ type: "undo" }, targets);
    s.actions.run({ type: "last" }, targets);
    s.actions.run({ type: "redo" }, targets);
    expect(s.frame()).toBe(0);
    expect([...s.prompts.points().keys()]).toEqual(["1:0"]);
    s.actions.redo();
    expect(toasts().at(-1)?.text).toBe("Nothing to redo.");
  });

  it("keys reach their actions, and say when there is nothing to do", () => {
    const s = setup();
    s.actions.run({ type: "step", delta: 10 }, targets);
    expect(s.frame()).toBe(10);
    s.actions.run({ type: "play" }, targets);
    expect(s.playback.toggle).toHaveBeenCalledOnce();
    s.actions.run({ type: "matting" }, targets);
    expect(targets.openMatting).toHaveBeenCalledOnce();
    s.actions.run({ type: "cycle-overlay", delta: 1 }, targets);
    expect(toasts().at(-1)?.text).toBe("No result to view yet.");
    s.actions.run({ type: "prompted", direction: 1 }, targets);
    expect(toasts().at(-1)?.text).toBe("No points after this frame.");
    s.actions.run({ type: "preview" }, targets);
    expect(s.previews.refresh).toHaveBeenCalledWith(10);
    s.actions.run({ type: "zoom", direction: -1 }, targets);
    expect(targets.zoom).toHaveBeenCalledWith(-1);
    s.actions.run({ type: "zoom-fit" }, targets);
    expect(targets.zoomFit).toHaveBeenCalledOnce();
    expect(s.frame()).toBe(10); // zooming keeps the frame
    s.actions.run({ type: "goto" }, targets);
    expect(targets.goto).toHaveBeenCalledOnce();
  });

  it("{ and } go to the track's flagged frames, and say when there is none that way", () => {
    const s = setup();
    s.actions.run({ type: "flagged", direction: 1 }, targets);
    expect(s.frame()).toBe(12);
    s.actions.run({ type: "flagged", direction: 1 }, targets);
    expect(s.frame()).toBe(30);
    s.actions.run({ type: "flagged", direction: 1 }, targets);
    expect(s.frame()).toBe(30);
    expect(toasts().at(-1)?.text).toBe("No frame to check after this one.");
    s.actions.run({ type: "flagged", direction: -1 }, targets);
    expect(s.frame()).toBe(12);
    s.actions.run({ type: "flagged", direction: -1 }, targets);
    expect(toasts().at(-1)?.text).toBe("No frame to check before this one.");
  });

  it("I and O set In and Out at the frame, Shift+I / Shift+O go there, Alt+X clears them", () => {
    const s = setup();
    s.actions.run({ type: "go-mark", mark: "in" }, targets);
    expect(toasts().at(-1)?.text).toBe("No In set (I sets it).");
    s.actions.run({ type: "step", delta: 12 }, targets);
    s.actions.run({ type: "set-mark", mark: "in" }, targets);
    s.actions.run({ type: "step", delta: 10 }, targets);
    s.actions.run({ type: "set-mark", mark: "out" }, targets);
    expect(s.inout.range()).toEqual({ in: 12, out: 22 });
    s.actions.run({ type: "go-mark", mark: "in" }, targets);
    expect(s.frame()).toBe(12);
    s.actions.run({ type: "go-mark", mark: "out" }, targets);
    expect(s.frame()).toBe(22);
    s.actions.run({ type: "clear-in-out" }, targets);
    expect(s.inout.range()).toEqual({ in: null, out: null });
  });

  it("deletes an object once when Delete is confirmed again while its deletion is on its way", async () => {
    const deletes: number[] = [];
    const answers: (() => void)[] = [];
    const s = setup((_pid, oid) => (deletes.push(oid), new Promise<undefined>((r) => answers.push(() => r(undefined)))));
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    const first = s.actions.deleteObject(1);
    pendingConfirm()!.resolve(true);
    await Promise.resolve();
    const second = s.actions.deleteObject(1); // a slow server: the object is still listed
    pendingConfirm()?.resolve(true);
    await Promise.resolve();
    for (const answer of answers) answer();
    await Promise.all([first, second]);
    expect(deletes).toEqual([1]);
    expect(s.objects.list()).toEqual([]);
    expect(s.prompts.points().size).toBe(0);
  });

  it("asks before deleting with the name its row shows, not the server's while a rename is on its way", async () => {
    const s = setup();
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    for (const [shown, title] of [["Dog", 'Delete "Dog"?'], [undefined, 'Delete "Object 1"?']] as const) {
      const deleted = s.actions.deleteObject(1, shown);
      expect(pendingConfirm()?.title).toBe(title);
      pendingConfirm()!.resolve(false);
      await deleted;
    }
    expect(s.objects.list().map((o) => o.name)).toEqual(["Object 1"]);
  });

  /** A server that takes the DELETE at once but whose answer is on its way until `answer()`;
   * a save of the object after it is refused as the server does (404). */
  function slowDelete(fail = false) {
    const puts: string[] = [];
    let removed = false;
    let answer = () => {};
    const s = setup(
      () =>
        new Promise<undefined>((resolve, reject) => {
          removed = !fail;
          answer = () => (fail ? reject(new ApiError(500, "disk full")) : resolve(undefined));
        }),
      async (oid, f, pts) => {
        if (removed) throw new ApiError(404, `object ${oid} not found`);
        puts.push(`${oid}:${f}=${pts.length}`);
      },
    );
    /** Click object 1 on frame 0, then confirm its Delete: the DELETE is on its way until
     * `answer`. `deleted` is the delete's promise (wrapped: an async function would wait on it). */
    const clickThenDelete = async () => {
      await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
      await settle();
      const deleted = s.actions.deleteObject(1);
      pendingConfirm()!.resolve(true);
      await settle();
      return { deleted };
    };
    return { s, puts, answer: () => answer(), clickThenDelete };
  }
  const settle = () => new Promise((r) => setTimeout(r, 0));

  it("an undo while its object's DELETE is on its way is not sent, and no error shows once the delete lands", async () => {
    const { s, puts, answer, clickThenDelete } = slowDelete();
    const { deleted } = await clickThenDelete();
    s.actions.undo();
    await settle();
    answer();
    await deleted;
    await settle();
    expect(puts).toEqual(["1:0=1"]);
    expect(s.refused).toEqual([]);
    expect(s.objects.list()).toEqual([]);
    expect(s.prompts.points().size).toBe(0);
  });

  it("a click on an object whose DELETE is on its way is refused with a message, not saved", async () => {
    const { s, puts, answer, clickThenDelete } = slowDelete();
    const { deleted } = await clickThenDelete();
    await s.actions.point({ x: 50, y: 60 }, "positive", near({ x: 50, y: 60 }, 4));
    expect(toasts().at(-1)?.text).toBe('"Object 1" is being deleted.');
    expect(s.prompts.points().get("1:0")?.length).toBe(1);
    await s.actions.updateObject(1, { name: "Dancer" }); // nor renamed
    expect(s.objects.list()[0].name).toBe("Object 1");
    answer();
    await deleted;
    await settle();
    expect(puts).toEqual(["1:0=1"]);
    expect(s.refused).toEqual([]);
  });

  it("a click while a DELETE is on its way names the object as the question did: the name its row shows", async () => {
    const { s, answer } = slowDelete();
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    const deleted = s.actions.deleteObject(1, "Dog"); // renamed, the name still on its way
    pendingConfirm()!.resolve(true);
    await settle();
    await s.actions.point({ x: 50, y: 60 }, "positive", near({ x: 50, y: 60 }, 4));
    expect(toasts().at(-1)?.text).toBe('"Dog" is being deleted.');
    answer();
    await deleted;
  });

  it("tells which objects' DELETE is on its way, until the server answers either way", async () => {
    for (const fail of [false, true]) {
      const { s, answer } = slowDelete(fail);
      await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
      expect([...s.actions.deleting()]).toEqual([]);
      const deleted = s.actions.deleteObject(1);
      pendingConfirm()!.resolve(true);
      await settle();
      expect([...s.actions.deleting()]).toEqual([1]);
      answer();
      await deleted;
      expect([...s.actions.deleting()]).toEqual([]);
    }
  });

  it("an undo held while a DELETE was on its way is saved when the delete is refused", async () => {
    const { s, puts, answer, clickThenDelete } = slowDelete(true);
    const { deleted } = await clickThenDelete();
    s.actions.undo();
    await settle();
    expect(puts).toEqual(["1:0=1"]);
    answer();
    await deleted;
    await settle();
    expect(puts).toEqual(["1:0=1", "1:0=0"]);
    expect(s.objects.list().map((o) => o.id)).toEqual([1]);
    expect(s.refused).toEqual([]);
  });

  describe("an object deleted in another tab or window", () => {
    const gone = new ApiError(404, "object 1 does not exist in project 'p'");
    const tick = () => new Promise((r) => setTimeout(r, 0));
    /** Object 1 with a point on frame 0, gone from the server. */
    async function deletedElsewhere() {
      const s = setup(
        async () => {
          throw gone;
        },
        undefined,
        undefined,
        undefined,
        async () => {
          throw gone;
        },
      );
      await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
      await tick();
      return s;
    }

    it("a rename or colour change leaves its row and points, and says why, instead of failing again at each try", async () => {
      for (const change of [{ name: "Dog" }, { color: "#123456" }]) {
        const s = await deletedElsewhere();
        expect(await s.actions.updateObject(1, change)).toBe(false);
        expect([s.objects.list(), s.prompts.points().size, s.reported]).toEqual([[], 0, []]);
        expect(toasts().at(-1)?.text).toBe('"Object 1" was deleted in another tab or window.');
      }
    });

    it("says it by the name this tab shows: the one typed, not the server's", async () => {
      const renamed = await deletedElsewhere();
      await renamed.actions.updateObject(1, { name: "Dog" }, "Dog");
      expect(toasts().at(-1)?.text).toBe('"Dog" was deleted in another tab or window.');
      // A name typed before and not taken is the row's while its colour is changed.
      const coloured = await deletedElsewhere();
      await coloured.actions.updateObject(1, { color: "#123456" }, "Cat");
      expect(toasts().at(-1)?.text).toBe('"Cat" was deleted in another tab or window.');
    });

    it("a rename answered after this tab's own delete landed says nothing of another tab", async () => {
      let answer!: () => void;
      const s = setup(undefined, undefined, undefined, undefined, async () => {
        await new Promise<void>((r) => (answer = r));
        throw gone; // the DELETE sent after it was done first
      });
      await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
      const renamed = s.actions.updateObject(1, { name: "Dog" });
      const deleted = s.actions.deleteObject(1);
      pendingConfirm()!.resolve(true);
      await deleted;
      const shown = toasts().map((t) => t.text);
      answer();
      expect(await renamed).toBe(false);
      expect([toasts().map((t) => t.text), s.reported, s.objects.list()]).toEqual([shown, [], []]);
    });

    it("its delete is done: the row and points go, with no error", async () => {
      const s = await deletedElsewhere();
      const deleted = s.actions.deleteObject(1);
      pendingConfirm()!.resolve(true);
      await deleted;
      expect([s.objects.list(), s.prompts.points().size, s.reported, [...s.actions.deleting()]]).toEqual([[], 0, [], []]);
    });
  });

  it("says whether a rename was saved: the list keeps the name typed when not", async () => {
    let down = true;
    const s = setup(undefined, undefined, undefined, undefined, async (pid, oid, body) => {
      if (down) throw new ApiError(0, "Cannot reach the server.");
      return { id: oid, project_id: pid, name: body.name ?? "Object 1", color: "#ff5a5f" };
    });
    await s.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    expect(await s.actions.updateObject(1, { name: "Dog" })).toBe(false);
    expect(s.reported).toEqual(["Rename not saved: Cannot reach the server."]);
    down = false;
    expect(await s.actions.updateObject(1, { name: "Dog" })).toBe(true);
    expect(s.objects.nameOf(1)).toBe("Dog");
  });
});
