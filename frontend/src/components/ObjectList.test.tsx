// The object list by keyboard: every row (not only the first nine, which have number keys)
// can be reached with Tab and selected with Enter or Space, on its name's button.
import { fireEvent, screen } from "@solidjs/testing-library";
import { createRoot, createSignal } from "solid-js";
import { describe, expect, it, vi } from "vitest";
import { pendingConfirm } from "../confirm";
import { LEAVE_WAIT_MS, UNSAVED_CLICKS, UNSAVED_OBJECT_NAME, mayLeaveProject, useProjectLeaveGuard } from "../leaveGuard";
import { elevenObjects as objects, renderObjectList } from "../test/objectList";

describe("ObjectList", () => {
  it("a row's name is a button that selects it, as a click on the row does; its other controls do not", () => {
    const selected: number[] = [];
    renderObjectList({ onSelect: (oid) => selected.push(oid) });
    const rows = screen.getAllByTestId("object-item");
    // a plain list item: the controls in it are not hidden inside another button
    expect([rows[9].tagName, rows[9].getAttribute("role"), rows[9].getAttribute("tabindex")]).toEqual(["LI", null, null]);
    const names = screen.getAllByTestId("object-select");
    const tenth = names[9];
    expect(tenth.tagName).toBe("BUTTON"); // a Tab stop, pressed by Enter or Space
    expect(tenth.textContent).toBe("Object 10");
    expect([names[0], tenth].map((r) => r.getAttribute("aria-pressed"))).toEqual(["true", "false"]);
    fireEvent.click(tenth);
    fireEvent.keyDown(tenth, { key: "Enter" }); // the button's own: no second select on the key
    fireEvent.click(rows[10].querySelector(".count")!);
    fireEvent.click(screen.getAllByTestId("object-rename")[9]);
    fireEvent.click(screen.getAllByTestId("object-color")[9]);
    expect(selected).toEqual([10, 11]);
  });

  it("the colour picker shows the object's colour, not one the server has not taken", () => {
    const asked: string[] = [];
    renderObjectList({ objects: objects.slice(0, 1), onColor: (_oid, color) => asked.push(color) }); // refused: the object keeps its colour
    const picker = screen.getByTestId("object-color") as HTMLInputElement;
    picker.value = "#123456";
    fireEvent.change(picker);
    expect(asked).toEqual(["#123456"]);
    expect(picker.value).toBe("#ff5a5f"); // the swatch's colour: picking again from it works
  });

  it("Delete on a row, its name or another control in it, deletes that row's object", () => {
    const deleted: number[] = [];
    renderObjectList({ onDelete: (oid) => deleted.push(oid) });
    const rows = screen.getAllByTestId("object-item");
    // prevented: the editor's Delete shortcut (clear this frame) leaves a handled key alone
    expect(fireEvent.keyDown(rows[2], { key: "Delete" })).toBe(false);
    expect(fireEvent.keyDown(screen.getAllByTestId("object-color")[4], { key: "Delete" })).toBe(false);
    expect(fireEvent.keyDown(screen.getAllByTestId("object-select")[6], { key: "Delete" })).toBe(false);
    expect(deleted).toEqual([3, 5, 7]);
  });

  it("keeps the keyboard focus: back on Rename after an edit, on a neighbour after a delete", async () => {
    const [list, setList] = createSignal(objects.slice(0, 3));
    renderObjectList({
      objects: list,
      onRename: (oid, name) => void setList((l) => l.map((o) => (o.id === oid ? { ...o, name } : o))),
      onDelete: (oid) => setList((l) => l.filter((o) => o.id !== oid)),
    });
    const rename = screen.getAllByTestId("object-rename")[1];
    rename.focus();
    fireEvent.click(rename);
    const input = screen.getByTestId("object-rename-input") as HTMLInputElement;
    expect(input.getAttribute("aria-label")).toBe("Rename Object 2");
    await Promise.resolve();
    input.value = "Dog";
    fireEvent.keyDown(input, { key: "Enter" });
    // the renamed object is a new value: its row stays, and so does the focus
    expect(screen.getAllByTestId("object-name").map((n) => n.textContent)).toEqual(["Object 1", "Dog", "Object 3"]);
    expect(document.activeElement).toBe(rename);

    const nameButton = (name: string) => screen.getAllByTestId("object-select").find((b) => b.textContent === name)!;
    const settle = () => new Promise((r) => setTimeout(r));
    fireEvent.click(screen.getAllByTestId("object-delete")[1]); // Dog; the focus was on its row
    await settle();
    expect(document.activeElement).toBe(nameButton("Object 3")); // the row now in its place
    fireEvent.keyDown(document.activeElement!, { key: "Delete" });
    await settle();
    expect(document.activeElement).toBe(nameButton("Object 1")); // the last went: the one before
    fireEvent.keyDown(document.activeElement!, { key: "Delete" });
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId("object-add")); // none left
  });
});

describe("ObjectList rename the server did not take", () => {
  /** A list whose renames the server refuses while `down`, and takes otherwise. */
  function renamable() {
    const [list, setList] = createSignal(objects.slice(0, 2));
    const state = { down: true, sent: [] as string[] };
    renderObjectList({
      objects: list,
      onRename: async (oid, name) => {
        state.sent.push(name);
        if (state.down) return false;
        setList((l) => l.map((o) => (o.id === oid ? { ...o, name } : o)));
        return true;
      },
    });
    return state;
  }
  const settle = () => new Promise((r) => setTimeout(r));
  const field = () => screen.getByTestId("object-rename-input") as HTMLInputElement;
  const type = async (name: string, key = "Enter") => {
    await Promise.resolve();
    field().value = name;
    fireEvent.keyDown(field(), { key });
    await settle();
  };

  it("keeps the typed name in its field, marked unsaved, and sends it again at Enter", async () => {
    const state = renamable();
    const rename = screen.getAllByTestId("object-rename")[1];
    rename.focus();
    fireEvent.click(rename);
    await type("Dog");
    // Not lost: the field is open again with it, and says it is not saved.
    expect(field().value).toBe("Dog");
    expect(field().getAttribute("data-unsaved")).toBe("true");
    expect(field().getAttribute("aria-label")).toBe("Rename Object 2 (not saved)");
    fireEvent.keyDown(field(), { key: "Enter" }); // unchanged, but not saved: sent again
    await settle();
    expect(state.sent).toEqual(["Dog", "Dog"]);
    state.down = false;
    fireEvent.keyDown(field(), { key: "Enter" });
    await settle();
    expect(state.sent).toEqual(["Dog", "Dog", "Dog"]);
    expect(screen.queryByTestId("object-rename-input")).toBeNull();
    expect(screen.getAllByTestId("object-name").map((n) => [n.textContent, n.getAttribute("data-unsaved")])).toEqual([
      ["Object 1", "false"],
      ["Dog", "false"],
    ]);
  });

  it("a rename ended by leaving the field shows the typed name unsaved in the row; Rename opens it again; Escape drops it", async () => {
    const state = renamable();
    fireEvent.click(screen.getAllByTestId("object-rename")[1]);
    await Promise.resolve();
    field().value = "Cat";
    fireEvent.blur(field());
    await settle();
    // The focus went elsewhere: the field does not take it back, the row keeps the name.
    expect(screen.queryByTestId("object-rename-input")).toBeNull();
    const name = screen.getAllByTestId("object-name")[1];
    expect([name.textContent, name.getAttribute("data-unsaved")]).toEqual(["Cat", "true"]);
    fireEvent.click(screen.getAllByTestId("object-rename")[1]);
    expect(field().value).toBe("Cat");
    await type("Cat", "Escape"); // the edit is given up: the server's name again
    expect(state.sent).toEqual(["Cat"]);
    const back = screen.getAllByTestId("object-name")[1];
    expect([back.textContent, back.getAttribute("data-unsaved")]).toEqual(["Object 2", "false"]);
  });

  it("asks before the project or the page is left while a name is not saved, and only then", async () => {
    const state = renamable();
    const leave = () => !window.dispatchEvent(new Event("beforeunload", { cancelable: true })); // true: the browser asks
    expect([leave(), await mayLeaveProject()]).toEqual([false, true]);
    const rename = screen.getAllByTestId("object-rename")[1];
    rename.focus();
    fireEvent.click(rename);
    await type("Dog");
    expect(leave()).toBe(true);
    const asked = mayLeaveProject();
    expect(pendingConfirm()).toMatchObject({ title: "Leave with an unsaved name?", confirmLabel: "Leave" });
    pendingConfirm()!.resolve(false);
    expect(await asked).toBe(false);
    state.down = false; // sent again and taken: nothing left to lose
    fireEvent.keyDown(field(), { key: "Enter" });
    await settle();
    expect([state.sent, leave(), await mayLeaveProject()]).toEqual([["Dog", "Dog"], false, true]);
  });

  it("asks once, naming both, when unsaved clicks and an unsaved name would be lost", async () => {
    // What the open editor registers (before its list) while its clicks are held for the server.
    const clicks = createRoot((dispose) => (useProjectLeaveGuard(() => true), dispose));
    renamable();
    for (const i of [0, 1]) {
      fireEvent.click(screen.getAllByTestId("object-rename")[i]);
      await type(`Dog ${i}`, "Tab"); // Tab: neither Enter nor Escape, then the field is left
      fireEvent.blur(field());
      await settle();
    }
    expect(screen.getAllByTestId("object-name").map((n) => n.getAttribute("data-unsaved"))).toEqual(["true", "true"]);
    const asked = mayLeaveProject();
    expect(pendingConfirm()).toMatchObject({ title: "Leave with unsaved work?", message: `${UNSAVED_CLICKS.message} ${UNSAVED_OBJECT_NAME.message}` });
    pendingConfirm()!.resolve(true);
    expect(await asked).toBe(true);
    clicks();
  });
});

describe("ObjectList rename on its way to the server", () => {
  /** A list whose renames the server answers when the test says (`answer(taken)`). */
  function slowServer() {
    const answers: ((taken: boolean) => void)[] = [];
    renderObjectList({ objects: objects.slice(0, 2), onRename: () => new Promise<boolean>((r) => answers.push(r)) });
    return { answer: (taken: boolean) => answers.shift()!(taken), sent: () => answers.length };
  }
  const settle = () => new Promise((r) => setTimeout(r));
  const leave = () => !window.dispatchEvent(new Event("beforeunload", { cancelable: true })); // true: the browser asks
  const field = () => screen.getByTestId("object-rename-input") as HTMLInputElement;
  /** Renames the second row to `name` by Enter: sent, not answered yet. */
  async function renameSecond(name: string) {
    const rename = screen.getAllByTestId("object-rename")[1];
    rename.focus();
    fireEvent.click(rename);
    await Promise.resolve();
    field().value = name;
    fireEvent.keyDown(field(), { key: "Enter" });
  }

  it("Delete names the object as its row shows it: the name on its way, and one not taken", async () => {
    const deleted: string[] = [];
    const answers: ((taken: boolean) => void)[] = [];
    renderObjectList({ objects: objects.slice(0, 2), onRename: () => new Promise<boolean>((r) => answers.push(r)), onDelete: (oid, name) => deleted.push(`${oid} ${name}`) });
    await renameSecond("Dog");
    const row = () => screen.getAllByTestId("object-item")[1];
    expect(screen.getAllByTestId("object-name")[1].textContent).toBe("Dog");
    fireEvent.click(screen.getAllByTestId("object-delete")[1]);
    answers.shift()!(false); // not taken: the row keeps it, marked unsaved
    await settle();
    fireEvent.keyDown(row(), { key: "Delete" });
    expect(deleted).toEqual(["2 Dog", "2 Dog"]);
  });

  it("a colour change names the object as its row shows it: the name not taken (a toast may name it)", async () => {
    const coloured: string[] = [];
    const answers: ((taken: boolean) => void)[] = [];
    renderObjectList({ objects: objects.slice(0, 2), onRename: () => new Promise<boolean>((r) => answers.push(r)), onColor: (oid, color, shown) => coloured.push(`${oid} ${color} ${shown}`) });
    await renameSecond("Dog");
    answers.shift()!(false); // not taken: the row keeps it, marked unsaved
    await settle();
    const picker = screen.getAllByTestId("object-color")[1] as HTMLInputElement;
    picker.value = "#123456";
    fireEvent.change(picker);
    expect(coloured).toEqual(["2 #123456 Dog"]);
  });

  it("the browser asks before the page is left while a name is being sent (the request would go with the page), and not once it is taken", async () => {
    const server = slowServer();
    await renameSecond("Dog");
    expect([server.sent(), leave()]).toEqual([1, true]);
    server.answer(true);
    await settle();
    expect(leave()).toBe(false);
  });

  it("a name sent again after the server did not take it counts while it is on its way too", async () => {
    const server = slowServer();
    await renameSecond("Dog");
    server.answer(false);
    await settle();
    expect([field().getAttribute("data-unsaved"), leave()]).toEqual(["true", true]);
    fireEvent.keyDown(field(), { key: "Enter" }); // sent again, unanswered
    expect([server.sent(), leave()]).toEqual([1, true]);
    server.answer(false);
  });

  it("leaving the project waits for the name's answer: taken, it leaves without a question", async () => {
    const server = slowServer();
    await renameSecond("Dog");
    const asked = mayLeaveProject();
    await settle();
    expect(pendingConfirm()).toBeNull();
    server.answer(true);
    expect(await asked).toBe(true);
    expect(pendingConfirm()).toBeNull();
  });

  it("leaving the project waits for the name's answer: not taken, it asks, and staying keeps the name in its field", async () => {
    const server = slowServer();
    await renameSecond("Dog");
    const asked = mayLeaveProject();
    expect(mayLeaveProject()).toBe(asked); // Back's popstate and hashchange: one move, one question
    server.answer(false);
    await vi.waitFor(() => expect(pendingConfirm()).toMatchObject({ title: UNSAVED_OBJECT_NAME.title, confirmLabel: "Leave" }));
    pendingConfirm()!.resolve(false);
    expect([await asked, field().value, field().getAttribute("data-unsaved")]).toEqual([false, "Dog", "true"]);
  });

  it("leaving the project asks when the name is not answered in a while, rather than wait on a server that does not answer", async () => {
    slowServer();
    await renameSecond("Dog");
    vi.useFakeTimers();
    try {
      const asked = mayLeaveProject();
      await vi.advanceTimersByTimeAsync(LEAVE_WAIT_MS - 1);
      expect(pendingConfirm()).toBeNull();
      await vi.advanceTimersByTimeAsync(1);
      expect(pendingConfirm()).toMatchObject({ title: UNSAVED_OBJECT_NAME.title });
      pendingConfirm()!.resolve(true);
      expect(await asked).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("ObjectList renames of one row in a row", () => {
  /** A list over a server that answers each rename when the test says (`answer(taken)`), in
   * the order asked, and keeps the name of the last rename it took. */
  function slowServer() {
    const [list, setList] = createSignal(objects.slice(0, 2));
    const sent: string[] = [];
    const answers: ((taken: boolean) => void)[] = [];
    renderObjectList({
      objects: list,
      onRename: (oid, name) => {
        sent.push(name);
        return new Promise<boolean>((done) =>
          answers.push((taken) => {
            if (taken) setList((l) => l.map((o) => (o.id === oid ? { ...o, name } : o)));
            done(taken);
          }),
        );
      },
    });
    return {
      sent: () => [...sent],
      /** Answers the oldest rename not answered yet. */
      answer: async (taken: boolean) => {
        answers.shift()!(taken);
        await settle();
      },
      setList,
    };
  }
  const settle = () => new Promise((r) => setTimeout(r));
  const field = () => screen.getByTestId("object-rename-input") as HTMLInputElement;
  const names = () => screen.getAllByTestId("object-name").map((n) => n.textContent);
  /** Opens the second row's field (the focus on its Rename button), and ends it by `key`
   * with `name` typed (null: as it opened). */
  async function editSecond(name: string | null, key = "Enter") {
    const rename = screen.getAllByTestId("object-rename")[1];
    rename.focus();
    fireEvent.click(rename);
    await Promise.resolve();
    const opened = field().value;
    if (name !== null) field().value = name;
    fireEvent.keyDown(field(), { key });
    await settle();
    return opened;
  }

  it("opened again while a name is on its way, the field shows that name, not the server's old one, and Enter as it is sends nothing more", async () => {
    const server = slowServer();
    await editSecond("Dog");
    expect(await editSecond(null)).toBe("Dog");
    expect(server.sent()).toEqual(["Dog"]);
    await server.answer(true);
    expect([server.sent(), names()]).toEqual([["Dog"], ["Object 1", "Dog"]]);
  });

  it("Escape in a field opened again while a name is on its way gives that name up: taken meanwhile, the old name is sent back", async () => {
    const server = slowServer();
    await editSecond("Dog");
    await editSecond(null, "Escape");
    expect(names()).toEqual(["Object 1", "Object 2"]); // the old name at once
    await server.answer(true); // "Dog" had reached the server
    expect(server.sent()).toEqual(["Dog", "Object 2"]);
    await server.answer(true);
    expect([server.sent(), names(), screen.getAllByTestId("object-name")[1].getAttribute("data-unsaved")]).toEqual([["Dog", "Object 2"], ["Object 1", "Object 2"], "false"]);
  });

  it("Escape in a field opened again while a name is on its way: that name refused, nothing more is sent, nothing is kept unsaved", async () => {
    const server = slowServer();
    await editSecond("Dog");
    await editSecond(null, "Escape");
    await server.answer(false);
    expect([server.sent(), names(), screen.queryByTestId("object-rename-input")]).toEqual([["Dog"], ["Object 1", "Object 2"], null]);
  });

  it("two renames sent quickly reach the server one after the other: the last typed wins, whatever the answers' order", async () => {
    const server = slowServer();
    await editSecond("Dog");
    await editSecond("Cat");
    await editSecond("Cow");
    // One at a time: the second waits for the first's answer, and only the latest is sent then.
    expect([server.sent(), names()]).toEqual([["Dog"], ["Object 1", "Cow"]]);
    await server.answer(true);
    expect(server.sent()).toEqual(["Dog", "Cow"]);
    expect(names()).toEqual(["Object 1", "Cow"]); // not "Dog" while Cow is on its way
    await server.answer(true);
    expect([server.sent(), names()]).toEqual([["Dog", "Cow"], ["Object 1", "Cow"]]);
  });

  it("a later name refused after an earlier one was taken is kept unsaved in its field, over the earlier one", async () => {
    const server = slowServer();
    await editSecond("Dog");
    await editSecond("Cat");
    await server.answer(true);
    await server.answer(false);
    expect([field().value, field().getAttribute("data-unsaved"), server.sent()]).toEqual(["Cat", "true", ["Dog", "Cat"]]);
  });

  it("a row deleted while its name waits to be sent: the waiting name is not sent", async () => {
    const server = slowServer();
    await editSecond("Dog");
    await editSecond("Cat");
    server.setList((l) => l.filter((o) => o.id !== 2)); // deleted (here or in another tab)
    await server.answer(false); // the server no longer has it
    expect([server.sent(), names()]).toEqual([["Dog"], ["Object 1"]]);
  });
  it("a field being typed in keeps what is typed when the answer to the name before comes (or another tab's name is read)", async () => {
    const server = slowServer();
    await editSecond("Dog");
    const rename = screen.getAllByTestId("object-rename")[1];
    rename.focus();
    fireEvent.click(rename);
    await Promise.resolve();
    field().value = "Doggo"; // typing, not ended yet
    await server.answer(true);
    expect(field().value).toBe("Doggo");
    server.setList((l) => l.map((o) => (o.id === 2 ? { ...o, name: "Horse" } : o))); // another tab's, read
    expect(field().value).toBe("Doggo");
    fireEvent.keyDown(field(), { key: "Enter" });
    await server.answer(true);
    expect([server.sent(), names()]).toEqual([["Dog", "Doggo"], ["Object 1", "Doggo"]]);
  });
});
