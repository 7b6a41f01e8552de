// The objects of a project (each gets its own matte) and which one clicks go to.
import { batch, createSignal, type Accessor } from "solid-js";
import { api, ApiError, withDiskFullHint, withoutIds, type MatteObject } from "../api";

export type ObjectApi = Pick<typeof api, "createObject" | "updateObject" | "deleteObject">;

export interface Objects {
  list: Accessor<MatteObject[]>;
  selected: Accessor<number | null>;
  select: (id: number | null) => void;
  /** Replace the list (read from the server); the selection stays while its object does,
   * else the first is selected. False when it is the list shown, which then stays as it is. */
  reset: (list: MatteObject[]) => boolean;
  selectedObject: () => MatteObject | null;
  colorOf: (id: number) => string;
  nameOf: (id: number) => string;
  /** Create one with the next free name and colour (after the creates asked for before), and
   * select it. Throws the server's error. `key`: its Idempotency-Key (api.made). */
  add: (key?: string) => Promise<MatteObject>;
  /** The object clicks go to: the selected one, else the first, else a new one (created once). */
  target: () => Promise<number>;
  /** The object made for a held click with `key`, its Idempotency-Key (a retry of the click
   * gets the object it made): asked once at a time per key, listed at once, and selected only
   * when no object is (the user may have added or picked another meanwhile). Throws the
   * server's error. */
  make: (key: string) => Promise<number>;
  update: (id: number, change: { name?: string; color?: string }) => Promise<void>;
  /** Delete it on the server; one already gone there (deleted in another tab) is deleted too. */
  remove: (id: number) => Promise<void>;
  /** Take it from the list (it is gone from the server), selecting the next if it was selected. */
  forget: (id: number) => void;
}

/** Whether the server refused a request about object `id` because it no longer has it (deleted
 * in another tab or window): 404 "object 5 does not exist in project '…'". */
export function isObjectGone(e: unknown, id: number): boolean {
  return e instanceof ApiError && e.status === 404 && e.detail.startsWith(`object ${id} does not exist`);
}

function sameObjects(a: readonly MatteObject[], b: readonly MatteObject[]): boolean {
  return a.length === b.length && a.every((o, i) => o.id === b[i].id && o.name === b[i].name && o.color === b[i].color);
}

/** "object 5 does not exist" → '"Hair" does not exist': the server names objects by id, the
 * editor by the names its list shows (one not in `objects` keeps its id). */
export function withObjectNames(text: string, objects: readonly Pick<MatteObject, "id" | "name">[]): string {
  return text.replace(/\bobject (\d+)\b/g, (whole, id: string) => {
    const n = objects.find((o) => o.id === Number(id))?.name;
    return n === undefined ? whole : `"${n}"`;
  });
}

/** A job's or track's stored error as the editor says any error (errorText, withObjectNames):
 * no job or project ids, objects by their names, a full disk with what to do about it. */
export function storedErrorText(text: string, objects: readonly Pick<MatteObject, "id" | "name">[]): string {
  return withObjectNames(withDiskFullHint(withoutIds(text)), objects);
}

/** `signal`: aborted when the editor closes; a create on its way (and its retries) stops then. */
export function createObjects(pid: string, server: ObjectApi = api, signal?: AbortSignal): Objects {
  const [list, setList] = createSignal<MatteObject[]>([]);
  const [selected, setSelected] = createSignal<number | null>(null);
  let creating: Promise<MatteObject> | null = null;
  const making = new Map<string, Promise<MatteObject>>();
  // The server names and colours a new object from the project's whole list, which this tab's
  // may lag (another tab added one): pressing N in two tabs never makes two "Object 2".
  const add = async (key?: string, select = true) => {
    const o = await server.createObject(pid, {}, key, signal);
    batch(() => {
      const kept = !select && list().some((x) => x.id === selected());
      // In the server's order, as a reload shows them: creates may answer out of order, and
      // the number keys pick objects by place.
      // A list read meanwhile may hold it already.
      setList((l) => [...l.filter((x) => x.id !== o.id), o].sort((a, b) => a.id - b.id));
      if (!kept) setSelected(o.id);
    });
    return o;
  };

  const forget = (id: number) =>
    batch(() => {
      if (!list().some((x) => x.id === id)) return; // the list shown stays the same value
      const rest = list().filter((x) => x.id !== id);
      setList(rest);
      if (selected() === id) setSelected(rest[0]?.id ?? null);
    });

  return {
    list,
    selected,
    select: setSelected,
    reset: (l) => {
      if (sameObjects(list(), l)) return false;
      batch(() => {
        setList(l);
        if (!l.some((o) => o.id === selected())) setSelected(l[0]?.id ?? null);
      });
      return true;
    },
    selectedObject: () => list().find((o) => o.id === selected()) ?? null,
    colorOf: (id) => list().find((o) => o.id === id)?.color ?? "#ffffff",
    nameOf: (id) => list().find((o) => o.id === id)?.name ?? `object ${id}`,
    add,
    target: async () => {
      const id = selected();
      if (id != null && list().some((o) => o.id === id)) return id;
      const first = list()[0];
      if (first) {
        setSelected(first.id);
        return first.id;
      }
      creating ??= add().finally(() => (creating = null));
      return (await creating).id;
    },
    make: async (key) => {
      let o = making.get(key);
      if (!o) {
        o = add(key, false).finally(() => making.delete(key));
        making.set(key, o);
      }
      return (await o).id;
    },
    update: async (id, change) => {
      const o = await server.updateObject(pid, id, change);
      // Only the fields this change sent, as the server took them: a rename and a colour change
      // on their way at once each answer with the other's field as it was then, and whichever
      // came last would undo the other on screen.
      const taken: Partial<MatteObject> = {};
      if (change.name !== undefined) taken.name = o.name;
      if (change.color !== undefined) taken.color = o.color;
      setList((l) => l.map((x) => (x.id === id ? { ...x, ...taken } : x)));
    },
    remove: async (id) => {
      try {
        await server.deleteObject(pid, id);
      } catch (e) {
        if (!isObjectGone(e, id)) throw e;
      }
      forget(id);
    },
    forget,
  };
}
