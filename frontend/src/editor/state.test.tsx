import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createRoot, createSignal, mergeProps } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setOnline, type Project } from "../api";
import { pendingConfirm } from "../confirm";
import { mayLeaveProject } from "../leaveGuard";
import { SequenceFpsHost } from "../components/SequenceFpsHost";
import { askSequenceFps } from "../sequenceFps";
import { FakeEventSource } from "../test/eventSource";
import { toasts } from "../toasts";
import { near } from "../test/near";
import { BUSY_RETRIES } from "./saving";
import { createEditor, type EditorInput } from "./state";

const project: Project = {
  id: "p_1",
  name: "clip",
  filename: "clip.mp4",
  created_at: "2026-12-01T00:00:00Z",
  video: { width: 320, height: 180, fps: 25, frame_count: 100, duration: 4, rotation: 0, codec: "h264", has_audio: false, pixel_aspect: 1 },
  has_track: false,
};

/** The editor of `project` over a server that has nothing for it yet (or over `server`). */
function editorOf(input: Partial<EditorInput> = {}, server: (path: string, init?: RequestInit) => Promise<Response> = async () => new Response("[]", { status: 200 })) {
  vi.stubGlobal("EventSource", FakeEventSource);
  vi.stubGlobal("fetch", vi.fn(server));
  return createRoot((dispose) => ({ editor: createEditor(mergeProps({ project, initialFrame: 10, onFrame: () => {} }, input)), dispose }));
}

describe("the editor", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("goes to the frame a link to the open project names", async () => {
    const [asked, setAsked] = createSignal<{ frame: number } | null>(null);
    const { editor, dispose } = editorOf({
      get frameAsked() {
        return asked();
      },
    });
    expect(editor.frame()).toBe(10);
    setAsked({ frame: 50 });
    expect(editor.frame()).toBe(50);
    setAsked({ frame: 500 }); // past the end: the last frame
    expect(editor.frame()).toBe(99);
    dispose();
  });

  it("leaves the keys to a dialog open over it: the arrows move between the frame rates offered, not the frame", async () => {
    const { editor, dispose } = editorOf();
    render(() => <SequenceFpsHost />);
    const asked = askSequenceFps("plates.zip");
    const rate = (await screen.findAllByRole("radio"))[2];
    rate.focus();
    expect(fireEvent.keyDown(rate, { key: "ArrowRight" })).toBe(true); // not prevented: the radios' own
    fireEvent.keyDown(rate, { key: "n" });
    expect(editor.frame()).toBe(10);
    expect(editor.objects.list()).toEqual([]);
    fireEvent.click(screen.getByTestId("fps-cancel"));
    expect(await asked).toBeNull();
    dispose();
  });

  it("has the browser ask before the page is left while points wait for the server, and only then", async () => {
    const { editor, dispose } = editorOf();
    const leave = () => !window.dispatchEvent(new Event("beforeunload", { cancelable: true })); // true: the browser asks
    expect(leave()).toBe(false);
    setOnline(false); // the server went away
    await editor.saver.save(1, 10, [{ x: 5, y: 6, label: "positive" }], []);
    expect(leave()).toBe(true);
    setOnline(true);
    await editor.saver.retry();
    expect(leave()).toBe(false);
    dispose();
    setOnline(true);
  });

  it("starts no track nor job while a click waits for the server: says how many would be left out", async () => {
    const { editor, dispose } = editorOf();
    vi.mocked(fetch).mockRejectedValue(new TypeError("Failed to fetch")); // the server went away
    setOnline(false);
    await editor.saver.save(1, 10, [{ x: 5, y: 6, label: "positive" }], []);
    const posts = () => vi.mocked(fetch).mock.calls.filter(([, init]) => init?.method === "POST").length;
    await editor.track.start(0, 99);
    expect(posts()).toBe(0);
    expect(toasts().map((t) => [t.title, t.text])).toContainEqual([
      "Track not started",
      "1 click is not saved yet: the server does not answer. The track would run without it: track again once it is saved (the toolbar says when).",
    ]);
    await expect(editor.jobsAfterSaves.create({ start: 0, end: 99, object_ids: [1] })).rejects.toThrow(
      "1 click is not saved yet: the server does not answer. The job would run without it: start it again once it is saved (the toolbar says when).",
    );
    expect(posts()).toBe(0);
    dispose();
    setOnline(true);
  });

  it("refuses a track while a save waits for its object's DELETE, naming the delete, not a toolbar note that is not there", async () => {
    const { editor, dispose } = editorOf();
    setOnline(true); // the server answers (an earlier test's failed request may have said not)
    editor.saver.holdObject(1); // its DELETE on its way
    await editor.saver.save(1, 10, [{ x: 5, y: 6, label: "positive" }], []); // an undo of it waits
    const posts = () => vi.mocked(fetch).mock.calls.filter(([, init]) => init?.method === "POST").length;
    try {
      await editor.track.start(0, 99);
      expect(posts()).toBe(0);
      expect(toasts().map((t) => [t.title, t.text])).toContainEqual([
        "Track not started",
        "1 click is not saved yet: an object's delete is on its way. The track would run without it: track again once the delete is answered.",
      ]);
    } finally {
      await editor.saver.releaseObject(1, true); // the object gone: nothing left waiting for the tests after
      dispose();
    }
  });

  it("has the app ask before its project is left for another while points wait for the server, and only then", async () => {
    const { editor, dispose } = editorOf();
    expect(await mayLeaveProject()).toBe(true);
    setOnline(false);
    await editor.saver.save(1, 10, [{ x: 5, y: 6, label: "positive" }], []);
    const asked = mayLeaveProject();
    expect(pendingConfirm()?.message).toBe("Some clicks are not saved yet (the server is away or still making their object, or its disk is full): they are kept only while this project stays open.");
    pendingConfirm()!.resolve(false);
    expect(await asked).toBe(false);
    dispose(); // the project closed: its guard goes with it
    expect(await mayLeaveProject()).toBe(true);
    setOnline(true);
  });

  it("asks before leaving from the moment of a first click, while its object is still being made", async () => {
    let answer = () => {};
    const { editor, dispose } = editorOf();
    vi.stubGlobal(
      "fetch",
      vi.fn(async (path: string, init?: RequestInit) => {
        if (init?.method === "POST" && path.endsWith("/objects")) {
          await new Promise<void>((r) => (answer = r)); // the server makes it slowly
          return new Response(JSON.stringify({ id: 1, project_id: "p_1", name: "Object 1", color: "#ff5a5f" }), { status: 201 });
        }
        return new Response(init?.method === "PUT" ? "{}" : "[]", { status: 200 });
      }),
    );
    await vi.waitFor(() => expect(editor.loaded()).toBe(true));
    const leave = () => !window.dispatchEvent(new Event("beforeunload", { cancelable: true }));
    const clicked = editor.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    expect(leave()).toBe(true);
    const asked = mayLeaveProject();
    expect(pendingConfirm()?.title).toBe("Leave with unsaved clicks?");
    pendingConfirm()!.resolve(false);
    expect(await asked).toBe(false);
    answer();
    await clicked;
    await editor.saver.idle();
    expect([leave(), [...editor.prompts.points().keys()]]).toEqual([false, ["1:10"]]);
    dispose();
  });

  describe("reads of the server's objects and points that overlap", () => {
    const object1 = { id: 1, project_id: "p_1", name: "Object 1", color: "#ff5a5f" };
    const point = { object_id: 1, frame: 10, points: [{ x: 5, y: 6, label: "positive" }] };
    const opened: (() => void)[] = [];
    afterEach(() => opened.splice(0).forEach((dispose) => dispose())); // a failed test's too
    /** A server whose reads of objects and points wait until `answer` gives what they read. */
    function slowReads() {
      const waiting: { path: string; answer: (body: unknown) => void }[] = [];
      const server = (path: string) => {
        if (!/\/(objects|points)$/.test(path)) return Promise.resolve(new Response("[]", { status: 200 }));
        return new Promise<Response>((r) => waiting.push({ path, answer: (body) => r(new Response(JSON.stringify(body), { status: 200 })) }));
      };
      /** Answer the first read still waiting with these objects and points. */
      const answer = async (objects: unknown[], points: unknown[]) => {
        const read = waiting.splice(0, 2);
        read.find((w) => w.path.endsWith("/objects"))!.answer(objects);
        read.find((w) => w.path.endsWith("/points"))!.answer(points);
        await new Promise((r) => setTimeout(r, 0));
      };
      return { server, waiting, answer };
    }
    /** An editor, once loaded, whose reads of objects and points wait until `answer` gives what they read. */
    async function overlapping() {
      const { editor, dispose } = editorOf();
      opened.push(dispose);
      await vi.waitFor(() => expect(editor.loaded()).toBe(true));
      const { server, waiting, answer } = slowReads();
      vi.stubGlobal("fetch", vi.fn(server));
      return { editor, waiting, answer };
    }

    it("a tab shown again while its first read is on its way reads again: that read may list the other tab's object without its point", async () => {
      const { server, waiting, answer } = slowReads();
      const { editor, dispose } = editorOf({}, server);
      opened.push(dispose);
      await vi.waitFor(() => expect(waiting.length).toBe(2)); // read 1, on opening
      document.dispatchEvent(new Event("visibilitychange")); // the other tab's point is saved by now
      await new Promise((r) => setTimeout(r, 0));
      await answer([object1], []); // read 1: its objects read after the other tab's create, its points before its save
      if (waiting.length) await answer([object1], [point]); // read 2
      expect([editor.loaded(), editor.objects.list().map((o) => o.name), [...editor.prompts.points().keys()]]).toEqual([true, ["Object 1"], ["1:10"]]);
    });

    it("a read that began earlier and lands during a later one does not make the later one's newer points count as an edit", async () => {
      const { editor, waiting, answer } = await overlapping();
      window.dispatchEvent(new Event("focus")); // read 1: the other tab's object is made, its point not saved yet
      await vi.waitFor(() => expect(waiting.length).toBe(2));
      document.dispatchEvent(new Event("visibilitychange")); // read 2, once the point is saved
      await vi.waitFor(() => expect(waiting.length).toBe(4));
      await answer([object1], []);
      await answer([object1], [point]);
      expect([editor.objects.list().map((o) => o.name), [...editor.prompts.points().keys()]]).toEqual([["Object 1"], ["1:10"]]);
    });

    it("a read that began earlier and lands after a later one does not undo what the later one read", async () => {
      const { editor, waiting, answer } = await overlapping();
      window.dispatchEvent(new Event("focus"));
      await vi.waitFor(() => expect(waiting.length).toBe(2));
      document.dispatchEvent(new Event("visibilitychange"));
      await vi.waitFor(() => expect(waiting.length).toBe(4));
      const first = waiting.splice(0, 2); // read 1 still on its way
      await answer([object1], [point]);
      waiting.push(...first);
      await answer([object1], []);
      expect([...editor.prompts.points().keys()]).toEqual(["1:10"]);
    });
  });

  describe("leaving the project while points are on their way", () => {
    /** The editor, its PUTs answered when the test says (`answer`). */
    function slowSaves() {
      const { editor, dispose } = editorOf();
      const answers: ((res: Response) => void)[] = [];
      vi.stubGlobal(
        "fetch",
        vi.fn((_path: string, init?: RequestInit) => (init?.method === "PUT" ? new Promise<Response>((r) => answers.push(r)) : Promise.resolve(new Response("[]", { status: 200 })))),
      );
      const saved = editor.saver.save(1, 10, [{ x: 5, y: 6, label: "positive" }], []);
      const answer = async (res: Response) => {
        await vi.waitFor(() => expect(answers).toHaveLength(1)); // the PUT is on its way
        answers.shift()!(res);
      };
      return { editor, dispose, saved, answer };
    }

    it("waits for their answer: refused for a full disk (kept only in this editor), it asks", async () => {
      const { dispose, saved, answer } = slowSaves();
      const asked = mayLeaveProject();
      await new Promise((r) => setTimeout(r, 0));
      expect(pendingConfirm()).toBeNull();
      await answer(new Response(JSON.stringify({ detail: "not enough disk space in the data dir: free some space, then try again" }), { status: 507 }));
      await vi.waitFor(() => expect(pendingConfirm()?.title).toBe("Leave with unsaved clicks?"));
      pendingConfirm()!.resolve(false);
      expect(await asked).toBe(false);
      await saved;
      dispose();
    });

    it("waits for their answer: stored, it leaves without a question", async () => {
      const { dispose, saved, answer } = slowSaves();
      const asked = mayLeaveProject();
      await answer(new Response(JSON.stringify({ frame: 10, points: [] }), { status: 200 }));
      expect(await asked).toBe(true);
      expect(pendingConfirm()).toBeNull();
      await saved;
      dispose();
    });
  });
  it("a save refused by another tab's edit reads the server's points again, and keeps on the stage those still held for the full disk", async () => {
    const { editor, dispose } = editorOf();
    const object = { id: 1, project_id: "p_1", name: "Object 1", color: "#ff5a5f" };
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
    vi.stubGlobal(
      "fetch",
      vi.fn(async (path: string, init?: RequestInit) => {
        if (path.endsWith("/objects")) return json([object]);
        if (path.endsWith("/frames/0/points")) return json({ detail: "not enough disk space in the data dir: free some space, then try again" }, 507);
        if (path.endsWith("/frames/5/points")) return json({ detail: "the points changed since this editor read them: reload" }, 409);
        return init?.method === "PUT" ? json({ detail: "unexpected" }, 500) : json([]);
      }),
    );
    await vi.waitFor(() => expect(editor.loaded()).toBe(true));
    editor.objects.reset([object]);
    editor.setFrame(0);
    await editor.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
    await editor.saver.idle();
    expect([editor.saver.diskFull(), [...editor.prompts.points().keys()]]).toEqual([true, ["1:0"]]);
    editor.setFrame(5);
    await editor.actions.point({ x: 7, y: 8 }, "positive", near({ x: 7, y: 8 }, 4));
    await editor.saver.idle();
    // The server's points read again: none; the held click on frame 0 is still to be sent.
    await vi.waitFor(() => expect(editor.prompts.points().has("1:5")).toBe(false));
    expect([[...editor.prompts.points().keys()], [...editor.saver.unsaved()]]).toEqual([["1:0"], ["1:0"]]);
    dispose();
  });

  describe("a first click's object being made", () => {
    const made = { id: 1, project_id: "p_1", name: "Object 1", color: "#ff5a5f" };
    const stillAnswered = (init?: RequestInit) =>
      new Response(
        JSON.stringify({ detail: `a request with Idempotency-Key '${new Headers(init?.headers).get("Idempotency-Key")}' (POST /api/projects/p_1/objects) is still being answered: retry once it has finished` }),
        { status: 409 },
      );

    it("Leave gives the click up: nothing more is sent to the project left, and nothing is said about it later", async () => {
      const { editor, dispose } = editorOf();
      const sent: string[] = [];
      let answer = (_res: Response) => {};
      vi.stubGlobal(
        "fetch",
        vi.fn(async (path: string, init?: RequestInit) => {
          if (init?.method) sent.push(`${init.method} ${path}`);
          if (init?.method === "POST" && path.endsWith("/objects")) {
            // the server makes it slowly; a request aborted by the page is not answered
            return new Promise<Response>((r, stop) => {
              answer = r;
              init.signal?.addEventListener("abort", () => stop(new DOMException("aborted", "AbortError")));
            });
          }
          return new Response(init?.method === "PUT" ? "{}" : "[]", { status: 200 });
        }),
      );
      await vi.waitFor(() => expect(editor.loaded()).toBe(true));
      const before = toasts().length;
      const clicked = editor.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
      const asked = mayLeaveProject();
      expect(pendingConfirm()?.title).toBe("Leave with unsaved clicks?");
      pendingConfirm()!.resolve(true); // Leave: the app closes this editor
      expect(await asked).toBe(true);
      dispose();
      answer(new Response(JSON.stringify(made), { status: 201 }));
      await clicked;
      await new Promise((r) => setTimeout(r, 10));
      expect([sent.filter((x) => !x.startsWith("GET")), toasts().length - before]).toEqual([["POST /api/projects/p_1/objects"], 0]);
    });

    it("Leave stops the tries for the held click's object: a creation still being answered is asked for no more", async () => {
      vi.useFakeTimers();
      const { editor, dispose } = editorOf();
      try {
        const sent: string[] = [];
        vi.stubGlobal(
          "fetch",
          vi.fn(async (path: string, init?: RequestInit) => {
            if (init?.method === "POST") sent.push(`${init.method} ${path}`);
            return init?.method === "POST" ? stillAnswered(init) : new Response("[]", { status: 200 });
          }),
        );
        await vi.waitFor(() => expect(editor.loaded()).toBe(true));
        void editor.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
        await vi.advanceTimersByTimeAsync(0);
        expect(sent).toEqual(["POST /api/projects/p_1/objects"]); // the next try waits a second
        dispose(); // left, having said Leave
        await vi.advanceTimersByTimeAsync(60_000);
        expect(sent).toEqual(["POST /api/projects/p_1/objects"]);
      } finally {
        vi.useRealTimers();
      }
    });

    it.each([
      ["a server error", 500, "database is locked"],
      ["the object deleted elsewhere", 404, "object 1 does not exist in project 'p_1'"],
    ])("a rename answered after Leave with %s says nothing in the project opened next", async (_, status, detail) => {
      const { editor, dispose } = editorOf();
      let answer = (_res: Response) => {};
      vi.stubGlobal(
        "fetch",
        vi.fn(async (_path: string, init?: RequestInit) => (init?.method === "PATCH" ? new Promise<Response>((r) => (answer = r)) : new Response("[]", { status: 200 }))),
      );
      await vi.waitFor(() => expect(editor.loaded()).toBe(true));
      editor.objects.reset([made]);
      const before = toasts().length;
      const renamed = editor.actions.updateObject(1, { name: "Dog" });
      dispose(); // left (after the leave question's wait ran out)
      answer(new Response(JSON.stringify({ detail }), { status }));
      expect(await renamed).toBe(false);
      expect(toasts().slice(before).map((t) => t.text)).toEqual([]);
    });

    it("the stalled note goes once a read of the list shows the object (the tab shown again), without Retry", async () => {
      vi.useFakeTimers();
      const { editor, dispose } = editorOf();
      try {
        let finished = false;
        const creates: string[] = [];
        vi.stubGlobal(
          "fetch",
          vi.fn(async (path: string, init?: RequestInit) => {
            if (init?.method === "POST" && path.endsWith("/objects")) {
              creates.push(new Headers(init.headers).get("Idempotency-Key")!);
              return finished ? new Response(JSON.stringify(made), { status: 201 }) : stillAnswered(init);
            }
            if (path.endsWith("/objects")) return new Response(JSON.stringify(finished ? [made] : []), { status: 200 });
            return new Response("[]", { status: 200 });
          }),
        );
        await vi.waitFor(() => expect(editor.loaded()).toBe(true));
        void editor.actions.point({ x: 5, y: 6 }, "positive", near({ x: 5, y: 6 }, 4));
        editor.actions.undo(); // its object, asked for already, is still asked for until made
        await vi.advanceTimersByTimeAsync(3 * 60_000);
        expect([editor.saver.objectWait(), creates.length > BUSY_RETRIES]).toEqual(["stalled", true]);
        finished = true; // the server made it meanwhile
        window.dispatchEvent(new Event("focus")); // the tab is clicked into: the list is read
        await vi.advanceTimersByTimeAsync(0);
        expect([editor.objects.list().map((o) => o.id), editor.saver.objectWait(), new Set(creates).size]).toEqual([[1], null, 1]);
      } finally {
        dispose();
        vi.useRealTimers();
      }
    });
  });
});
