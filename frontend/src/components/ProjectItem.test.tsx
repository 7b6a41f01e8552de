// One project in the list: what it shows, selecting it, editing its name in place and asking
// before a delete (the server side of rename and delete is in the e2e specs).
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createSignal, type Accessor } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Project } from "../api";
import { pendingConfirm } from "../confirm";
import { ProjectItem, projectMeta, videoNotes } from "./ProjectItem";

const project: Project = {
  id: "p1",
  name: "Beach take",
  filename: "beach.mp4",
  created_at: "",
  video: { width: 1920, height: 1080, fps: 29.97, frame_count: 300, duration: 10, rotation: 0, codec: "h264", has_audio: false, pixel_aspect: 1 },
  has_track: false,
};

/** The row of `shown`: the list's project, which a test may change as a list read would. */
function setup(shown: Project | Accessor<Project> = project) {
  const log: string[] = [];
  const [renaming, setRenaming] = createSignal(false);
  render(() => (
    <ProjectItem
      project={typeof shown === "function" ? shown() : shown}
      selected={false}
      renaming={renaming()}
      onRenaming={(on) => (log.push(`renaming ${on}`), setRenaming(on))}
      onSelect={() => log.push("select")}
      onChanged={() => log.push("changed")}
      onDeleted={() => log.push("deleted")}
    />
  ));
  return { log, item: screen.getByTestId("project-item") };
}

describe("ProjectItem", () => {
  it("shows the name, the video's facts and thumbnail; its name is the button that selects it, as a click on the row does", () => {
    const { log, item } = setup();
    expect(item.dataset.projectId).toBe("p1");
    // a plain container: the controls in it are not hidden inside another button
    expect([item.getAttribute("role"), item.getAttribute("tabindex")]).toEqual([null, null]);
    const open = screen.getByTestId("project-open");
    expect(open.tagName).toBe("BUTTON");
    expect(open.getAttribute("aria-current")).toBe("false");
    expect(open.textContent).toBe("Beach take");
    expect(screen.getByTestId("project-name").textContent).toBe("Beach take");
    expect(screen.getByTestId("project-name").title).toBe("Beach take\nbeach.mp4");
    expect([...screen.getByTestId("project-meta").children].map((s) => s.textContent)).toEqual(["1920×1080 · 29.97 fps", "300 frames · 0:10"]);
    expect(screen.getByTestId("project-thumbnail").getAttribute("src")).toBe("/api/projects/p1/thumbnail");
    fireEvent.click(open); // Enter or Space on it, in a browser
    fireEvent.click(screen.getByTestId("project-thumbnail"));
    fireEvent.click(screen.getByTestId("project-meta"));
    expect(log).toEqual(["select", "select", "select"]); // once a click
    fireEvent.keyDown(open, { key: "Enter" }); // the button's own: no second select on the key
    expect(log).toHaveLength(3);
  });

  it("shows the server's notes on how the video is read in words under its facts, and none for most videos", () => {
    const truncated = { ...project, video: { ...project.video, notes: ["the file is cut short (truncated): only its first 300 frames are there, and those are used"] } };
    setup(truncated);
    const notes = screen.getByTestId("project-notes");
    expect(notes.textContent).toBe("Note: The file is cut short (truncated): only its first 300 frames are there, and those are used.");
    expect(notes.title).toBe("The file is cut short (truncated): only its first 300 frames are there, and those are used.");
    expect(screen.getByTestId("project-meta").contains(notes)).toBe(true);
    expect(videoNotes(project)).toBe(""); // an older server: no notes field
    expect(videoNotes({ ...project, video: { ...project.video, notes: [] } })).toBe("");
  });

  it("counts a single frame as one frame", () => {
    const still = { ...project, video: { ...project.video, fps: 25, frame_count: 1, duration: 0.04 } };
    expect(projectMeta(still)[1]).toBe("1 frame · 0.0 s");
  });

  it("gives the keyboard focus back to its Rename button when Enter or Escape ends the edit", async () => {
    setup();
    const button = screen.getByTestId("project-rename");
    for (const key of ["Enter", "Escape"]) {
      button.focus();
      fireEvent.click(button);
      const input = screen.getByTestId("project-rename-input");
      expect(input.getAttribute("aria-label")).toBe("Rename Beach take");
      await Promise.resolve();
      expect(document.activeElement).toBe(input);
      fireEvent.keyDown(input, { key });
      expect(screen.queryByTestId("project-rename-input")).toBeNull();
      expect(document.activeElement, key).toBe(button);
    }
  });

  it("Delete on the row, its name or another button in it, asks to delete this project (never the frame's points behind)", () => {
    setup();
    for (const target of [screen.getByTestId("project-item"), screen.getByTestId("project-open"), screen.getByTestId("project-rename")]) {
      // prevented: the editor's Delete shortcut (clear this frame) leaves a handled key alone
      expect(fireEvent.keyDown(target, { key: "Delete" })).toBe(false);
      expect(pendingConfirm()).toMatchObject({ title: "Delete project?" });
      pendingConfirm()!.resolve(false);
    }
  });

  it("edits the name in place; Escape or an unchanged name asks the server nothing", async () => {
    const { log } = setup();
    fireEvent.click(screen.getByTestId("project-rename"));
    const input = screen.getByTestId("project-rename-input") as HTMLInputElement;
    expect(input.value).toBe("Beach take");
    await Promise.resolve();
    expect(document.activeElement).toBe(input);
    fireEvent.keyDown(input, { key: "Escape" });
    expect(screen.queryByTestId("project-rename-input")).toBeNull();
    fireEvent.click(screen.getByTestId("project-rename"));
    fireEvent.keyDown(screen.getByTestId("project-rename-input"), { key: "Enter" });
    expect(screen.getByTestId("project-name").textContent).toBe("Beach take");
    expect(log).toEqual(["renaming true", "renaming false", "renaming true", "renaming false"]); // never "select" nor "changed"
  });

  it("leaves Enter and Escape that end an input method's composition to it: the name is still being typed", async () => {
    const { log } = setup();
    fireEvent.click(screen.getByTestId("project-rename"));
    const input = screen.getByTestId("project-rename-input") as HTMLInputElement;
    fireEvent.keyDown(input, { key: "Enter", isComposing: true }); // a Japanese word chosen
    fireEvent.keyDown(input, { key: "Escape", isComposing: true }); // a composition dropped
    fireEvent.keyDown(input, { key: "Enter", keyCode: 229 }); // Safari ends one saying only 229
    expect(screen.getByTestId("project-rename-input")).toBe(input);
    expect(log).toEqual(["renaming true"]);
  });

  it("asks before deleting, and a cancel keeps the project", async () => {
    const { log } = setup();
    fireEvent.click(screen.getByTestId("project-delete"));
    const ask = pendingConfirm()!;
    expect(ask).toMatchObject({ title: "Delete project?", confirmLabel: "Delete", danger: true });
    expect(ask.message).toContain('"Beach take" with its points, objects and every matting result will be deleted.');
    ask.resolve(false);
    await Promise.resolve();
    expect(log).toEqual([]);
  });
});

describe("ProjectItem rename the server did not take", () => {
  afterEach(() => vi.unstubAllGlobals());
  /** A server whose renames fail with a full disk while `down`, and are taken otherwise. */
  function server() {
    const state = { down: true, sent: [] as string[] };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (_url: string, init?: RequestInit) => {
        state.sent.push(JSON.parse(String(init?.body)).name);
        if (state.down) return new Response(JSON.stringify({ detail: "The server's disk is full" }), { status: 507 });
        return new Response(JSON.stringify({ ...project, name: state.sent.at(-1) }), { status: 200 });
      }),
    );
    return state;
  }
  const settle = () => new Promise((r) => setTimeout(r, 10));
  const field = () => screen.getByTestId("project-rename-input") as HTMLInputElement;
  /** Whether the browser would ask before the page is left. */
  const leave = () => !window.dispatchEvent(new Event("beforeunload", { cancelable: true }));
  /** Rename from the keyboard: the Rename button, `name` typed, Enter. */
  async function renameByEnter(name: string) {
    const button = screen.getByTestId("project-rename");
    button.focus();
    fireEvent.click(button);
    await Promise.resolve();
    field().value = name;
    fireEvent.keyDown(field(), { key: "Enter" });
  }

  it("keeps the typed name in its field, marked unsaved, sends it again at Enter, and asks before the page is left meanwhile", async () => {
    const state = server();
    const { log } = setup();
    await renameByEnter("Sunset take");
    await settle();
    // Not lost: the field is open again with it, and says it is not saved.
    expect([field().value, field().getAttribute("data-unsaved"), field().getAttribute("aria-label")]).toEqual(["Sunset take", "true", "Rename Beach take (not saved)"]);
    expect(leave()).toBe(true);
    state.down = false;
    fireEvent.keyDown(field(), { key: "Enter" }); // unchanged, but not saved: sent again
    await settle();
    expect(state.sent).toEqual(["Sunset take", "Sunset take"]);
    expect([screen.queryByTestId("project-rename-input"), leave()]).toEqual([null, false]);
    expect(log.filter((l) => l === "changed")).toEqual(["changed"]); // the list is read again once
  });

  it("a rename ended by leaving the field shows the typed name unsaved in the row; Rename opens it again; Escape drops it", async () => {
    const state = server();
    setup();
    fireEvent.click(screen.getByTestId("project-rename"));
    await Promise.resolve();
    field().value = "Sunset take";
    fireEvent.blur(field());
    await settle();
    // The focus went elsewhere: the field does not take it back, the row keeps the name.
    expect(screen.queryByTestId("project-rename-input")).toBeNull();
    const name = screen.getByTestId("project-name");
    expect([name.textContent, name.getAttribute("data-unsaved")]).toEqual(["Sunset take", "true"]);
    expect(screen.getByTestId("project-open").textContent).toBe("Sunset take (not saved)");
    fireEvent.click(screen.getByTestId("project-rename"));
    expect(field().value).toBe("Sunset take");
    fireEvent.keyDown(field(), { key: "Escape" }); // the edit is given up: the server's name again
    await settle();
    expect(state.sent).toEqual(["Sunset take"]);
    const back = screen.getByTestId("project-name");
    expect([back.textContent, back.getAttribute("data-unsaved")]).toEqual(["Beach take", "false"]);
  });

  it("a name renamed back to the one it just replaced, before the list is read again, reaches the server and shows", async () => {
    const state = server();
    state.down = false;
    setup(); // its list not read again yet: "Beach take" still
    await renameByEnter("Sunset take");
    await settle();
    expect(screen.getByTestId("project-name").textContent).toBe("Sunset take"); // taken: not the list's old name again
    await renameByEnter("Beach take");
    await settle();
    expect(state.sent).toEqual(["Sunset take", "Beach take"]);
    expect(screen.getByTestId("project-name").textContent).toBe("Beach take");
  });

  it("shows the list's name once a list is read after its rename, even another tab's rename back to the name before", async () => {
    server().down = false;
    const [listed, setListed] = createSignal(project);
    setup(listed);
    const name = () => screen.getByTestId("project-name").textContent;
    await renameByEnter("Sunset take");
    await settle();
    setListed({ ...project, name: "Sunset take" }); // the list read after it
    expect(name()).toBe("Sunset take");
    setListed({ ...project }); // another tab renamed it back: a later list read says so
    expect(name()).toBe("Beach take");

    // Renamed back in the other tab before this tab's list was read again: that read shows it.
    await renameByEnter("Dune take");
    await settle();
    expect(name()).toBe("Dune take");
    setListed({ ...project });
    expect(name()).toBe("Beach take");
  });

  it("asks before the page is left while a name is on its way to the server, sent the first time or again, and not once it is taken", async () => {
    const answers: ((res: Response) => void)[] = [];
    vi.stubGlobal("fetch", vi.fn(() => new Promise<Response>((r) => answers.push(r))));
    setup();
    await renameByEnter("Sunset take");
    expect([answers.length, leave()]).toEqual([1, true]);
    answers.shift()!(new Response(JSON.stringify({ detail: "The server's disk is full" }), { status: 507 }));
    await settle();
    fireEvent.keyDown(field(), { key: "Enter" }); // not saved: sent again
    expect([answers.length, leave()]).toEqual([1, true]);
    answers.shift()!(new Response(JSON.stringify({ ...project, name: "Sunset take" }), { status: 200 }));
    await settle();
    expect([screen.queryByTestId("project-rename-input"), leave()]).toEqual([null, false]);
  });
});
