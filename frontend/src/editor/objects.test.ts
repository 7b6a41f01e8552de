import { createRoot } from "solid-js";
import { describe, expect, it } from "vitest";
import type { MatteObject } from "../api";
import { createObjects, withObjectNames, type ObjectApi } from "./objects";

/** An object store that behaves like the server's, in memory: it names and colours what it
 * is not told (backend/vidmatte/store.py), and keeps what each create was sent. */
function fakeServer() {
  const made: MatteObject[] = [];
  const sent: object[] = [];
  let id = 0;
  const server: ObjectApi = {
    createObject: async (pid, body) => {
      sent.push(body);
      id += 1;
      const o = { id, project_id: pid, name: body.name ?? `Object ${id}`, color: body.color ?? `#0000${String(id).padStart(2, "0")}` };
      made.push(o);
      return o;
    },
    updateObject: async (_pid, oid, body) => ({ ...made.find((o) => o.id === oid)!, ...body }),
    deleteObject: async () => undefined,
  };
  return { server, made, sent };
}

describe("objects", () => {
  it("the first click makes one object even when two arrive at once", async () => {
    const { server, made } = fakeServer();
    const objects = createRoot(() => createObjects("p", server));
    const [a, b] = await Promise.all([objects.target(), objects.target()]);
    expect(a).toBe(b);
    expect(made).toHaveLength(1);
    expect(objects.selected()).toBe(a);
    expect(objects.selectedObject()?.name).toBe(made[0].name);
  });

  it("new objects get fresh names and colours; deleting the selected selects the next", async () => {
    const { server } = fakeServer();
    const objects = createRoot(() => createObjects("p", server));
    const one = await objects.add();
    const two = await objects.add();
    expect(one.name).not.toBe(two.name);
    expect(one.color).not.toBe(two.color);
    await objects.update(two.id, { name: "Dog" });
    expect(objects.nameOf(two.id)).toBe("Dog");
    objects.select(one.id);
    await objects.remove(one.id);
    expect(objects.list().map((o) => o.id)).toEqual([two.id]);
    expect(objects.selected()).toBe(two.id);
    expect(objects.colorOf(99)).toBe("#ffffff");
  });

  it("lists objects in the server's order (by id) whatever order the creates answer in", async () => {
    const { server } = fakeServer();
    const slowFirst: ObjectApi = {
      ...server,
      createObject: async (pid, body) => {
        const o = await server.createObject(pid, body);
        if (o.id === 1) await new Promise((r) => setTimeout(r, 5));
        return o;
      },
    };
    const objects = createRoot(() => createObjects("p", slowFirst));
    await Promise.all([objects.add(), objects.add()]);
    expect(objects.list().map((o) => o.id)).toEqual([1, 2]);
  });

  it("a new list (read again from the server) keeps the selection while its object lives", async () => {
    const { server, made } = fakeServer();
    const objects = createRoot(() => createObjects("p", server));
    await Promise.all([objects.add(), objects.add()]);
    objects.select(2);
    objects.reset([...made]);
    expect(objects.selected()).toBe(2);
    objects.reset([made[0]]); // deleted in another tab
    expect(objects.selected()).toBe(1);
  });

  it("a list read again unchanged is kept as it is, and says so", async () => {
    const { server, made } = fakeServer();
    const objects = createRoot(() => createObjects("p", server));
    await objects.add();
    const shown = objects.list();
    expect(objects.reset(made.map((o) => ({ ...o })))).toBe(false);
    expect(objects.list()).toBe(shown); // a rename open in the list stays open
    expect(objects.reset([{ ...made[0], color: "#123456" }])).toBe(true); // changed in another tab
    expect(objects.list()[0].color).toBe("#123456");
  });

  it("messages name objects as the list does, not by the ids the user never sees", () => {
    const name = [
      { id: 5, name: "Object 1" },
      { id: 12, name: "Hair" },
    ];
    expect(withObjectNames("object 5 does not exist in the project", name)).toBe('"Object 1" does not exist in the project');
    expect(withObjectNames("object 12 has no points in frames 0..9 any more", name)).toBe('"Hair" has no points in frames 0..9 any more');
    expect(withObjectNames("object 7 does not exist in the project", name)).toBe("object 7 does not exist in the project");
    expect(withObjectNames("the points of object 5 on frame 0", name)).toBe('the points of "Object 1" on frame 0');
  });

  it("leaves new objects' names and colours to the server, which sees every tab's objects", async () => {
    const { server, made, sent } = fakeServer();
    const objects = createRoot(() => createObjects("p", server));
    const three = await Promise.all([objects.add(), objects.add(), objects.add()]);
    expect(sent).toEqual([{}, {}, {}]);
    expect(objects.list()).toEqual(made);
    expect(objects.selected()).toBe(three[2].id);
  });

  it("a rename and a colour change of one object at once both show, whichever answer comes last", async () => {
    const { server, made } = fakeServer();
    // The server applies each PATCH as it comes (the rename first), and each answer holds the
    // object as it was then; the rename's answer, made before the colour, comes last.
    const answers: (() => void)[] = [];
    server.updateObject = (_pid, oid, body) => {
      const i = made.findIndex((o) => o.id === oid);
      made[i] = { ...made[i], ...body };
      const o = { ...made[i] };
      return new Promise((r) => answers.push(() => r(o)));
    };
    const objects = createRoot(() => createObjects("p", server));
    const o = await objects.add();
    const renamed = objects.update(o.id, { name: "Dog" });
    const coloured = objects.update(o.id, { color: "#ff0000" });
    answers[1]();
    await coloured;
    answers[0]();
    await renamed;
    expect(objects.list()).toEqual([{ ...o, name: "Dog", color: "#ff0000" }]);
  });

  it("a create the server refuses does not hold up the next one", async () => {
    const { server, made } = fakeServer();
    const create = server.createObject;
    let refuse = true;
    server.createObject = (pid, body) => (refuse ? ((refuse = false), Promise.reject(new Error("disk full"))) : create(pid, body));
    const objects = createRoot(() => createObjects("p", server));
    const [first, second] = await Promise.allSettled([objects.add(), objects.add()]);
    expect(first.status).toBe("rejected");
    expect(second.status).toBe("fulfilled");
    expect(made.map((o) => o.name)).toEqual(["Object 1"]);
  });
});
