import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createRoot, createSignal, mergeProps } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setOnline, type Project } from "../api";
import { pendingConfirm } from "../confirm";
import { mayLeaveProject } from "../leaveGuard";
import { SequenceFpsHost } from "../components/SequenceFpsHost";
import { askSequenceFps } from "../sequenceFps";
import { FakeEventSource } from "../test/eventSource";
import { near } from "../test/near";
import { createEditor, type EditorInput } from "./state";

const project: Project = {
  id: "p_1",
  name: "clip",
  filename: "clip.mp4",
  created_at: "2026-12-01T00:00:00Z",
  video: { width: 320, height: 180, fps: 25, frame_count: 100, duration: 4, rotation: 0, codec: "h264", has_audio: false, pixel_aspect: 1 },
  has_track: false,
};

/** The editor of `project` over a server that has nothing for it yet. */
function editorOf(input: Partial<EditorInput> = {}) {
  vi.stubGlobal("EventSource", FakeEventSource);
  vi.stubGlobal("fetch", vi.fn(async () => new Response("[]", { status: 200 })));
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
});
