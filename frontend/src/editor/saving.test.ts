import { createRoot, createSignal } from "solid-js";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api";
import type { Point } from "../points";
import { BUSY_RETRIES, BUSY_RETRY_MS, notSavedText, PromptSaver } from "./saving";

const p = (x: number): Point => ({ x, y: 1, label: "positive" });

/** A saver over a fake server that is up or down, recording what it stored. */
function setup() {
  return createRoot(() => {
    const [online, setOnline] = createSignal(true);
    const stored = new Map<string, readonly Point[]>();
    const refused: string[] = [];
    let up = true;
    let refuse = false;
    let full = false;
    const puts: string[] = [];
    const diskFull: string[] = [];
    let saved = 0;
    const saver = new PromptSaver({
      put: async (oid, f, pts, expected) => {
        await new Promise((r) => setTimeout(r, 1));
        puts.push(`${oid}:${f}`);
        if (full) throw new ApiError(507, "not enough disk space in the data dir: free some space, then try again");
        if (!up) {
          setOnline(false);
          throw new ApiError(0, "Cannot reach the server.");
        }
        if (refuse) throw new ApiError(404, "object 9 not found");
        // As the server does: a save that began from other points than it holds is refused.
        if (expected !== undefined && JSON.stringify(expected) !== JSON.stringify(stored.get(`${oid}:${f}`) ?? []))
          throw new ApiError(409, "the points changed since this editor read them");
        stored.set(`${oid}:${f}`, pts);
      },
      online,
      onSaved: () => saved++,
      onRefused: (_e, oid, f) => refused.push(`${oid}:${f}`),
      onDiskFull: (e) => diskFull.push((e as Error).message),
    });
    return {
      saver,
      stored,
      refused,
      saved: () => saved,
      serverDown: () => (up = false),
      serverUp: () => {
        up = true;
        setOnline(true);
      },
      refuseNext: () => (refuse = true),
      setDiskFull: (on: boolean) => (full = on),
      puts,
      diskFull,
      online,
    };
  });
}

describe("PromptSaver", () => {
  it("sends nothing more once the editor closed (Leave gave the held points up): not at a retry, nor when a delete's answer releases them", async () => {
    const s = setup();
    s.setDiskFull(true);
    await s.saver.save(1, 5, [p(1)], []); // held for the full disk
    s.saver.holdObject(2); // a DELETE on its way: its object's save waits
    await s.saver.save(2, 6, [p(2)], []);
    const sent = [...s.puts];
    s.saver.dispose();
    s.setDiskFull(false);
    await s.saver.retry(); // room made (a rename answered after Leave)
    await s.saver.releaseObject(2, false); // the DELETE refused after Leave
    await s.saver.save(1, 7, [p(3)], []); // an answer's edit drawn after Leave
    await s.saver.idle();
    expect([s.puts, s.saved()]).toEqual([sent, 0]);
  });

  it("says which points each save began from, so it cannot drop another tab's click", async () => {
    const s = setup();
    await s.saver.save(1, 5, [p(1)], []);
    await s.saver.save(1, 5, [p(1), p(2)], [p(1)]);
    expect(s.stored.get("1:5")).toEqual([p(1), p(2)]);
    s.stored.set("1:6", [p(9)]); // another tab clicked on frame 6; this one still shows none
    await s.saver.save(1, 6, [p(3)], []);
    expect(s.stored.get("1:6")).toEqual([p(9)]);
    expect(s.refused).toEqual(["1:6"]);
  });

  it("saves the points of each object and frame, the last click winning", async () => {
    const s = setup();
    const a = s.saver.save(1, 5, [p(1)]);
    const b = s.saver.save(1, 5, [p(1), p(2)]);
    await Promise.all([a, b]);
    expect(s.stored.get("1:5")).toEqual([p(1), p(2)]);
    expect(s.saver.unsaved().size).toBe(0);
    expect(s.saved()).toBeGreaterThanOrEqual(1);
  });

  it("holds a save the server could not receive, marks it unsaved and sends it when back", async () => {
    const s = setup();
    s.serverDown();
    await s.saver.save(1, 5, [p(1)]);
    expect(s.online()).toBe(false);
    expect(s.saver.isUnsaved(1, 5, p(1))).toBe(true);
    // clicked again while the server is away: held without trying, the newest points kept
    await s.saver.save(1, 5, [p(1), p(3)]);
    await s.saver.save(2, 7, [p(4)]);
    expect([...s.saver.unsaved()].sort()).toEqual(["1:5", "2:7"]);
    expect(s.stored.size).toBe(0);
    s.serverUp();
    await s.saver.retry();
    expect(s.stored.get("1:5")).toEqual([p(1), p(3)]);
    expect(s.stored.get("2:7")).toEqual([p(4)]);
    expect(s.saver.unsaved().size).toBe(0);
  });

  it("marks unsaved only the points the server lacks, not those it had before", async () => {
    const s = setup();
    await s.saver.save(1, 5, [p(1)], []);
    s.serverDown();
    await s.saver.save(1, 5, [p(1), p(2)], [p(1)]);
    expect(s.saver.isUnsaved(1, 5, p(1))).toBe(false);
    expect(s.saver.isUnsaved(1, 5, p(2))).toBe(true);
    // points loaded from the server, then an offline click: the loaded ones are not unsaved
    await s.saver.save(3, 0, [p(7), p(8)], [p(7)]);
    expect(s.saver.isUnsaved(3, 0, p(7))).toBe(false);
    expect(s.saver.isUnsaved(3, 0, p(8))).toBe(true);
    s.serverUp();
    await s.saver.retry();
    expect(s.saver.isUnsaved(1, 5, p(2))).toBe(false);
  });

  it("holds points refused for a full disk (not dropped for the server's), tells once, and sends them at the next save once room is made", async () => {
    const s = setup();
    await s.saver.save(1, 5, [p(1)], []);
    s.setDiskFull(true);
    await s.saver.save(1, 5, [p(1), p(2)], [p(1)]);
    await s.saver.save(2, 5, [p(3)], []);
    expect(s.refused).toEqual([]);
    expect(s.diskFull).toEqual(["not enough disk space in the data dir: free some space, then try again"]);
    expect([...s.saver.unsaved()]).toEqual(["1:5", "2:5"]);
    expect(s.saver.diskFull()).toBe(true);
    expect(s.saver.isUnsaved(1, 5, p(2))).toBe(true);
    expect(s.saver.isUnsaved(1, 5, p(1))).toBe(false);
    // Nothing is sent again on its own: the disk stays full until the user makes room.
    const sent = s.puts.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(s.puts.length).toBe(sent);
    // Room made (a project deleted): the next click saves, and the held points go with it.
    s.setDiskFull(false);
    await s.saver.save(3, 6, [p(4)], []);
    await s.saver.idle();
    expect(s.stored.get("1:5")).toEqual([p(1), p(2)]);
    expect(s.stored.get("2:5")).toEqual([p(3)]);
    expect(s.stored.get("3:6")).toEqual([p(4)]);
    expect([...s.saver.unsaved()]).toEqual([]);
    expect(s.saver.diskFull()).toBe(false);
    expect(s.saver.settled()).toBe(true);
  });

  it("Retry into a still full disk sends each held save once and tells again, without a loop", async () => {
    const s = setup();
    s.setDiskFull(true);
    await s.saver.save(1, 5, [p(1)], []);
    await s.saver.retry();
    await new Promise((r) => setTimeout(r, 30));
    expect(s.puts).toEqual(["1:5", "1:5"]);
    expect(s.diskFull).toHaveLength(2);
    expect(s.saver.holding()).toBe(true);
    s.setDiskFull(false);
    await s.saver.retry();
    expect(s.stored.get("1:5")).toEqual([p(1)]);
    expect(s.saver.holding()).toBe(false);
  });

  it("a held edit that failed to reach a server that came back while it ran runs once more at once, not told as a full disk", async () => {
    const s = setup();
    const ran: string[] = [];
    let tries = 0;
    s.saver.holdEdit(async () => {
      // Its tries outlasted the outage: the return's retry came while it ran.
      if (++tries === 1) {
        void s.saver.retry();
        throw new ApiError(0, "Cannot reach the server.");
      }
      ran.push("click");
    });
    await s.saver.runHeldEdits();
    expect([ran, tries, s.diskFull, s.saver.diskFull(), s.saver.heldEdits()]).toEqual([["click"], 2, [], false, 0]);
  });

  it("a held edit whose server was still making its object runs again a while later, with no Retry", async () => {
    vi.useFakeTimers();
    try {
      const s = setup();
      let tries = 0;
      s.saver.holdEdit(async () => {
        if (++tries === 1) throw new ApiError(409, "a request with Idempotency-Key 'k' (POST /x) is still being answered: retry once it has finished");
      });
      await s.saver.runHeldEdits();
      expect([tries, s.saver.heldEdits(), s.diskFull]).toEqual([1, 1, []]);
      await vi.advanceTimersByTimeAsync(BUSY_RETRY_MS);
      expect([tries, s.saver.heldEdits()]).toEqual([2, 0]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a held edit whose object the server never finishes is asked again a few times (about a minute), then waits for Retry, still held", async () => {
    vi.useFakeTimers();
    try {
      const s = setup();
      let tries = 0;
      let done = false;
      s.saver.holdEdit(async () => {
        tries++;
        if (!done) throw new ApiError(409, "a request with Idempotency-Key 'k' (POST /x) is still being answered: retry once it has finished");
      });
      await s.saver.runHeldEdits();
      expect([tries, s.saver.objectWait()]).toEqual([1, "making"]);
      await vi.advanceTimersByTimeAsync(BUSY_RETRY_MS * BUSY_RETRIES);
      expect([tries, s.saver.objectWait(), s.saver.heldEdits()]).toEqual([1 + BUSY_RETRIES, "stalled", 1]);
      // No timer runs any more: an hour later it has not been asked again, nor dropped.
      await vi.advanceTimersByTimeAsync(3600_000);
      expect([tries, s.saver.objectWait(), s.saver.heldEdits(), s.saver.holding()]).toEqual([1 + BUSY_RETRIES, "stalled", 1, true]);
      done = true;
      const again = s.saver.retry(); // the toolbar's Retry: said to be asking again at once
      expect(s.saver.objectWait()).toBe("making");
      await again;
      expect([tries, s.saver.objectWait(), s.saver.heldEdits()]).toEqual([2 + BUSY_RETRIES, null, 0]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("runs no held edit while the server is away: they wait for its return", async () => {
    const s = setup();
    const ran: string[] = [];
    s.serverDown();
    await s.saver.save(1, 5, [p(1)]); // the server is found away
    s.saver.holdEdit(async () => void ran.push("click"));
    await s.saver.retry();
    expect([ran, s.saver.heldEdits()]).toEqual([[], 1]);
    s.serverUp();
    await s.saver.retry();
    expect([ran, s.saver.heldEdits(), s.stored.get("1:5")]).toEqual([["click"], 0, [p(1)]]);
  });

  it("Retry pressed twice quickly once room is made sends each held save once", async () => {
    const s = setup();
    s.setDiskFull(true);
    await s.saver.save(1, 5, [p(1)], []);
    s.setDiskFull(false);
    await Promise.all([s.saver.retry(), s.saver.retry()]);
    await s.saver.idle();
    expect([s.puts, s.stored.get("1:5"), s.saver.settled()]).toEqual([["1:5", "1:5"], [p(1)], true]);
  });

  it("reports a refused save instead of holding it", async () => {
    const s = setup();
    s.refuseNext();
    await s.saver.save(9, 3, [p(1)]);
    expect(s.refused).toEqual(["9:3"]); // the object and frame, for the message
    expect(s.saver.unsaved().size).toBe(0);
  });

  it("forgets a deleted object's held saves", async () => {
    const s = setup();
    s.serverDown();
    await s.saver.save(1, 5, [p(1)]);
    s.saver.dropObject(1);
    expect(s.saver.unsaved().size).toBe(0);
    s.serverUp();
    await s.saver.retry();
    expect(s.stored.size).toBe(0);
  });

  it("is idle once every save under way has landed", async () => {
    const s = setup();
    void s.saver.save(1, 5, [p(1)]);
    void s.saver.save(2, 6, [p(2)]);
    await s.saver.idle();
    expect([...s.stored.keys()].sort()).toEqual(["1:5", "2:6"]);
  });

  it("has landed only once the saves asked after it (a click made after Track was pressed) and the held edit running have landed too", async () => {
    const s = setup();
    void s.saver.save(1, 5, [p(1)]);
    s.saver.holdEdit(async () => {
      await new Promise((r) => setTimeout(r, 5));
      void s.saver.save(3, 7, [p(3)]); // a first click, drawn once its object is made
    });
    void s.saver.runHeldEdits();
    const landed = s.saver.landed();
    void s.saver.save(2, 6, [p(2)]); // clicked while the first save is on its way
    await landed;
    expect([...s.stored.keys()].sort()).toEqual(["1:5", "2:6", "3:7"]);
  });

  it("is settled only when no save is running or held (the server's points may then be shown)", async () => {
    const s = setup();
    expect(s.saver.settled()).toBe(true);
    const done = s.saver.save(1, 5, [p(1)]);
    expect(s.saver.settled()).toBe(false);
    await done;
    await Promise.resolve();
    expect(s.saver.settled()).toBe(true);
    s.serverDown();
    await s.saver.save(1, 5, [p(2)], [p(1)]);
    expect(s.saver.settled()).toBe(false); // held for the server's return
    s.serverUp();
    await s.saver.retry();
    await Promise.resolve();
    expect(s.saver.settled()).toBe(true);
  });

  it("lists the saves still running on a frame", async () => {
    const s = setup();
    const done = s.saver.save(1, 5, [p(1)]);
    expect(s.saver.pendingOn(5)).toHaveLength(1);
    expect(s.saver.pendingOn(6)).toHaveLength(0);
    await done;
    await Promise.resolve();
    expect(s.saver.pendingOn(5)).toHaveLength(0);
  });

  it("a save sent just before its object's DELETE and refused after it is not reported when the object goes", async () => {
    const s = setup();
    s.refuseNext(); // the server took the DELETE first: "object 9 not found"
    const sent = s.saver.save(9, 5, [p(1)], []);
    s.saver.holdObject(9);
    await sent;
    expect(s.saver.settled()).toBe(false); // waits for the DELETE's answer
    await s.saver.releaseObject(9, true);
    expect(s.refused).toEqual([]);
    expect(s.saver.settled()).toBe(true);
  });

  it("says when saves wait for an object's DELETE, so a refused track names that and not the toolbar", async () => {
    const s = setup();
    s.saver.holdObject(4);
    expect(s.saver.waitsOnDelete()).toBe(false); // nothing of it to save yet
    await s.saver.save(4, 2, [p(1)], []); // an undo of the object being deleted
    expect(s.saver.waitsOnDelete()).toBe(true);
    await s.saver.releaseObject(4, true);
    expect(s.saver.waitsOnDelete()).toBe(false);
  });
});

describe("notSavedText", () => {
  it("names how many clicks a track or a job would leave out, and what to do", () => {
    expect(notSavedText(1, "offline", "track")).toBe(
      "1 click is not saved yet: the server does not answer. The track would run without it: track again once it is saved (the toolbar says when).",
    );
    expect(notSavedText(3, "disk-full", "job")).toBe(
      "3 clicks are not saved yet: the server's disk is full. The job would run without them: make room, press Retry in the toolbar, then start it again.",
    );
    expect(notSavedText(2, "object", "track")).toBe(
      "2 clicks are not saved yet: the server is still making their object. The track would run without them: track again once they are saved (Retry in the toolbar asks again).",
    );
    // The toolbar shows nothing for a delete on its way: the message must not send the user there.
    expect(notSavedText(1, "delete", "track")).toBe(
      "1 click is not saved yet: an object's delete is on its way. The track would run without it: track again once the delete is answered.",
    );
    expect(notSavedText(2, "delete", "job")).toBe(
      "2 clicks are not saved yet: an object's delete is on its way. The job would run without them: start it again once the delete is answered.",
    );
  });
});
