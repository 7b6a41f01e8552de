// What the user does with the prompts and the view, by click or by key: points, undo, redo,
// objects, stepping, playing, result views. Toasts say what could not be done.
import { createSignal, type Accessor } from "solid-js";
import { isDiskFull, isStillAnswered, isUnreachable, requestKey } from "../api";
import { confirmAction } from "../confirm";
import type { Vec } from "../geometry";
import type { Action } from "../keyboard";
import { adjacentPromptedFrame, framesWithPoints, pointsOnFrame, type ClickLabel, type Near } from "../points";
import { showInfo } from "../toasts";
import { adjacentFlaggedFrame } from "../track";
import { bindKeys } from "./keys";
import type { InOutState } from "./inout";
import { isObjectGone, type Objects } from "./objects";
import type { Playback } from "./playback";
import type { Previews } from "./previews";
import type { Prompts } from "./prompts";
import type { Results } from "./results";
import type { HeldEdit, PromptSaver } from "./saving";
import type { TrackState } from "./track";

export interface ActionDeps {
  frame: Accessor<number>;
  setFrame: (frame: number) => void;
  frameCount: () => number;
  /** Objects and points are loaded: clicks may edit. */
  loaded: Accessor<boolean>;
  objects: Objects;
  prompts: Prompts;
  /** Holds an object's saves while its DELETE is on its way, and a first click until its object
   * is made; sends those held for a full disk once another write lands (room was made). */
  saver: Pick<PromptSaver, "holdObject" | "releaseObject" | "holdEdit" | "heldEdits" | "heldEditsWhere" | "runHeldEdits" | "holdsEdit" | "takeBackEdit" | "takeBackEdits" | "diskFull" | "retry">;
  previews: Previews;
  playback: Pick<Playback, "toggle">;
  results: Pick<Results, "cycle">;
  track: Pick<TrackState, "track" | "refresh">;
  /** The In/Out work range (I, O, Alt+X). */
  inout: Pick<InOutState, "range" | "setIn" | "setOut" | "clear">;
  /** Says why an action was not done, also while the server is away: unlike a point (and a
   * first click's object), an object's change is not held for its return. */
  report: (error: unknown, title: string) => void;
  /** Aborted once the project is closed (the user left it): an answer that comes after that
   * says nothing, in the project opened next, and changes nothing. */
  closed: AbortSignal;
}

export interface KeyTargets {
  blocked: () => boolean;
  blockedKey: (e: KeyboardEvent) => void;
  openMatting: () => void;
  openHelp: () => void;
  toggleMask: () => void;
  /** Zoom the stage one step in (1) or out (-1) about its centre. */
  zoom: (direction: -1 | 1) => void;
  /** Back to the fitted frame. */
  zoomFit: () => void;
  /** Focus the transport's go-to field. */
  goto: () => void;
}

/** The object a held click was made for while there was none: asked for with `key`; `asked`
 * once a try may have made it on the server (its answer lost, or still being made); `id` once
 * answered; `kept` once asked for with no click left for it (keepMaking). */
interface NewObject {
  key: string;
  asked: boolean;
  id?: number;
  kept?: boolean;
}

/** A held click's object is asked for again later: the server is away, its disk full, or it is
 * still making it. */
const holdable = (e: unknown) => isDiskFull(e) || isUnreachable(e) || isStillAnswered(e);

export function createActions(d: ActionDeps) {
  /** An info toast, unless the project is closed: its requests answered later are not news. */
  const say = (text: string) => {
    if (!d.closed.aborted) showInfo(text);
  };
  const hasPoints = () => pointsOnFrame(d.prompts.points(), d.frame()).length > 0;
  /** Previews drawn with the old objects are wrong now: the current frame's is made anew. */
  const repreview = (also = false) => {
    d.previews.dropExcept(new Set());
    if (also || hasPoints()) void d.previews.refresh(d.frame());
  };
  /** Go to the frame an undo or redo changed; `nothing` when there was none to make. */
  const showEdited = (frame: number | null, nothing: string) => {
    if (frame === null) say(nothing);
    else if (frame !== d.frame()) d.setFrame(frame);
  };

  // Objects whose deletion is on its way: the list shows them until the server answers, and a
  // second Delete meanwhile would only be refused (the object is gone by then). A signal: the
  // Matting dialog leaves them out of a job (the server would refuse it naming the object).
  const [deleting, setDeleting] = createSignal<ReadonlySet<number>>(new Set());
  const setDeletingOf = (oid: number, on: boolean) =>
    setDeleting((ids) => new Set(on ? [...ids, oid] : [...ids].filter((x) => x !== oid)));
  // The name the delete's question named (the row's), for what is said while it is on its way.
  const deletingNames = new Map<number, string>();
  /** Whether `oid` may take a point, a box, a name or a colour: not while its DELETE is on its
   * way (the change would be refused once it lands, with a confusing error), which is said. */
  const editable = (oid: number) => {
    if (!deleting().has(oid)) return true;
    say(`"${deletingNames.get(oid) ?? d.objects.nameOf(oid)}" is being deleted.`);
    return false;
  };

  /** `oid` is gone from the server (deleted here or in another tab): its row, points, held
   * saves and masks go. `frames`: those its points were on, as they were when its delete was asked. */
  const forgetObject = (oid: number, frames = framesWithPoints(d.prompts.points(), [oid])) => {
    d.objects.forget(oid);
    d.prompts.dropObject(oid); // and its saves
    repreview(frames.includes(d.frame()));
    // The object left the track with it: its masks go from the overlay (the server's
    // combined mask no longer has them, or is gone with the last object).
    if (d.track.track()) void d.track.refresh();
  };

  // Clicks taken back by undo while they were held (not drawn yet), and "drawn" for each undo
  // of a drawn edit, in undo order: redo goes back through them last first. A new edit ends
  // them, as it ends the redo of drawn edits.
  const [undone, setUndone] = createSignal<readonly (HeldEdit | "drawn")[]>([]);
  // The object being made for the clicks held while there was none to click on (the server
  // away, its disk full, still making it): each asks with its Idempotency-Key, at every try, so
  // that a creation whose answer was lost gets that object, not a second one, also when the
  // click that first asked was undone since or another object was added meanwhile.
  let newObject: NewObject | null = null;
  const heldTargets = new WeakMap<HeldEdit, number | NewObject>();
  /** The frame each held click was made on: clearing that frame takes it back. */
  const heldFrames = new WeakMap<HeldEdit, number>();
  /** The object a click held now goes to, whenever it runs (a redo too): the one clicks go to
   * now, else the new one being made. */
  const heldTarget = (): number | NewObject => {
    const now = d.objects.selectedObject()?.id ?? d.objects.list()[0]?.id;
    if (now !== undefined) return now;
    if (newObject?.id !== undefined) newObject = null; // made, and deleted since: a new one
    return (newObject ??= { key: requestKey(), asked: false });
  };
  /** The id of `o`, made with its key unless answered already. */
  const idOf = async (o: NewObject): Promise<number> => {
    if (o.id !== undefined) return o.id;
    const asked = o.asked;
    o.asked = true;
    try {
      o.id = await d.objects.make(o.key);
      return o.id;
    } catch (e) {
      // Refused: nothing was made for this try; the next one asks anew.
      if (isDiskFull(e)) o.asked = asked;
      else if (!holdable(e)) Object.assign(o, { key: requestKey(), asked: false });
      throw e;
    }
  };
  /** A click taken back while its object may be made on the server already (its answer lost,
   * or still being made): that object is asked for until answered, so that it shows in the list
   * at once, as one answered while the click was undone does, rather than only after a reload;
   * a redo then puts the click on it. */
  const keepMaking = (o: NewObject) => {
    if (o.id !== undefined || !o.asked || o.kept) return;
    o.kept = true;
    d.saver.holdEdit(async () => {
      try {
        // Not when the try under way at the undo was refused since: nothing was made.
        if (o.asked) await idOf(o);
      } catch (e) {
        if (holdable(e)) throw e; // kept for the next try
      }
      o.kept = false;
    }, false);
    void d.saver.runHeldEdits();
  };

  /** `held` was taken back (an undo, its frame cleared): a redo may hold it again. Its object
   * may be made on the server already: asked for until answered (keepMaking). */
  const tookBack = (held: HeldEdit) => {
    const target = heldTargets.get(held);
    if (target !== undefined && typeof target !== "number") keepMaking(target);
  };

  /** `edit` on the frame shown now, for the object clicks go to. A first click (no object yet)
   * is held from the moment of the click, counted unsaved and guarded against leaving while its
   * object is made; one the full disk refused, the server did not answer, or was still making,
   * stays held, as refused points are, and is made at the next retry (the server back, Retry);
   * a click while one is held goes behind it, so that they land in click order. */
  const onTarget = async (edit: (frame: number, oid: number) => void) => {
    if (!d.loaded()) return;
    setUndone([]);
    const frame = d.frame(); // the picture clicked: making its object may take a while
    if (d.saver.heldEdits() === 0 && d.objects.list().length > 0) {
      const oid = await d.objects.target();
      if (editable(oid)) edit(frame, oid);
      return;
    }
    const target = heldTarget();
    const held: HeldEdit = async () => {
      let oid: number;
      try {
        oid = typeof target === "number" ? target : await idOf(target);
      } catch (e) {
        // Undone while its object was asked for: nothing is kept, nor to be told about.
        if (!d.saver.holdsEdit(held)) return;
        if (holdable(e)) throw e;
        return d.report(e, "Could not add an object");
      }
      // Undone while its object was being made: the object comes (it was asked for), the point
      // not. Deleted meanwhile (here or in another tab): the click goes with it, as its points do.
      if (d.saver.holdsEdit(held) && d.objects.list().some((o) => o.id === oid) && editable(oid)) edit(frame, oid);
    };
    heldTargets.set(held, target);
    heldFrames.set(held, frame);
    d.saver.holdEdit(held);
    return d.saver.runHeldEdits();
  };

  /** A write landed: were points held for a full disk, room was made, and they go now (else
   * the toolbar would go on saying the disk is full until a click or Retry). */
  const roomMade = () => {
    if (d.saver.diskFull()) void d.saver.retry();
  };

  const a = {
    /** The objects whose DELETE is on its way. */
    deleting,
    point: (at: Vec, label: ClickLabel, near: Near) => onTarget((frame, oid) => d.prompts.click(frame, oid, at, label, near)),
    box: (from: Vec, to: Vec) => onTarget((frame, oid) => d.prompts.box(frame, oid, from, to)),
    removeBox: (oid: number) => {
      if (!editable(oid)) return;
      setUndone([]);
      d.prompts.removeBox(d.frame(), oid);
    },
    /** A held click (not drawn yet) is the newest edit: while one is held, later clicks are
     * held behind it, and there are no points (no object) for another edit to change. */
    canUndo: () => d.saver.heldEdits() > 0 || d.prompts.undoSize() > 0,
    /** The frame shown has points, or clicks held (Clear takes them back). */
    canClear: () => hasPoints() || d.saver.heldEdits((e) => heldFrames.get(e) === d.frame()) > 0,
    canRedo: () => d.prompts.redoSize() > 0 || undone().some((x) => x !== "drawn"),
    /** Undo the last edit: a held click is taken back (never made, nor its object when no
     * other click needs it), else the last drawn edit is undone. */
    undo: () => {
      const held = d.saver.takeBackEdit();
      if (held) {
        tookBack(held);
        setUndone([...undone(), held]);
        return say("Undid a click not saved yet.");
      }
      const frame = d.prompts.undo();
      if (frame !== null) setUndone([...undone(), "drawn"]);
      showEdited(frame, "Nothing to undo.");
    },
    /** Redo the last undone edit: a click taken back is held again and made in its turn. */
    redo: () => {
      for (let last = undone().at(-1); last !== undefined; last = undone().at(-1)) {
        setUndone(undone().slice(0, -1));
        if (last !== "drawn") {
          d.saver.holdEdit(last);
          void d.saver.runHeldEdits();
          return say("Redid a click not saved yet.");
        }
        // Its drawn edit may be gone from the redo history (its object was deleted, the points
        // read again): the next one is redone then.
        if (d.prompts.redoSize() > 0) break;
      }
      showEdited(d.prompts.redo(), "Nothing to redo.");
    },
    /** Clear the frame shown: its points, and its clicks still held (their object not made
     * yet), which would land on it later otherwise; those are taken back as undo takes one
     * back, for redo to bring back. */
    clearFrame: () => {
      const frame = d.frame();
      const cleared = d.prompts.clear(frame);
      if (cleared) setUndone([]);
      const held = d.saver.takeBackEdits((e) => heldFrames.get(e) === frame);
      held.forEach(tookBack);
      if (held.length) {
        setUndone([...undone(), ...held.reverse()]); // undone last first: redone in click order
        say(`Cleared ${held.length} click${held.length === 1 ? "" : "s"} not saved yet.`);
      } else if (!cleared) say(`Frame ${frame} has no points.`);
    },
    addObject: () =>
      d.objects
        .add()
        .then(roomMade)
        .catch((e) => d.report(e, "Could not add an object")),
    /** Rename or recolour `oid`; false when the server did not take it (the list keeps a name
     * typed then, for the user to send again). `shown`: its name as its row shows it (one typed
     * and on its way, or not taken), which says it is gone rather than the server's. */
    updateObject: async (oid: number, change: { name?: string; color?: string }, shown?: string): Promise<boolean> => {
      if (!editable(oid)) return false;
      try {
        await d.objects.update(oid, change);
        roomMade();
        if (change.color) repreview();
        return true;
      } catch (e) {
        // Deleted in another tab or window: it goes here too, rather than refuse every try.
        // Not when this tab's own delete overtook the change (it is gone or going already).
        if (isObjectGone(e, oid)) {
          if (d.closed.aborted || deleting().has(oid) || !d.objects.list().some((o) => o.id === oid)) return false;
          say(`"${shown ?? d.objects.nameOf(oid)}" was deleted in another tab or window.`);
          forgetObject(oid);
        } else d.report(e, change.color ? "Could not change the colour" : "Rename not saved");
        return false;
      }
    },
    /** Delete `oid` once confirmed; `shown`: its name as its row shows it (one typed and on its
     * way to the server, or not taken), which the question names rather than the server's. */
    deleteObject: async (oid: number, shown?: string) => {
      const o = d.objects.list().find((x) => x.id === oid);
      if (!o || deleting().has(oid)) return;
      // Its clicks held behind a first click's object are not drawn yet: their frames count too.
      const held = d.saver.heldEditsWhere((e) => {
        const t = heldTargets.get(e);
        return t === oid || (typeof t === "object" && t.id === oid);
      });
      const frames = framesWithPoints(d.prompts.points(), [oid]);
      const asked = new Set([...frames, ...held.map((e) => heldFrames.get(e))]);
      const ok = await confirmAction({
        title: `Delete "${shown ?? o.name}"?`,
        message: asked.size ? `Its points on ${asked.size} frame${asked.size === 1 ? "" : "s"} are deleted too.` : "It has no points yet.",
        confirmLabel: "Delete",
        danger: true,
      });
      if (!ok || deleting().has(oid)) return;
      setDeletingOf(oid, true);
      deletingNames.set(oid, shown ?? o.name);
      // An undo, a redo or a cleared frame meanwhile changes it too: those saves wait.
      d.saver.holdObject(oid);
      let gone = false;
      try {
        await d.objects.remove(oid);
        gone = true;
        forgetObject(oid, frames);
      } catch (e) {
        d.report(e, "Could not delete the object");
      } finally {
        setDeletingOf(oid, false);
        deletingNames.delete(oid);
        void d.saver.releaseObject(oid, gone);
      }
    },
    /** The keyboard's way to each action. */
    run: (action: Action, t: Omit<KeyTargets, "blocked" | "blockedKey">) => {
      switch (action.type) {
        case "step":
          return d.setFrame(d.frame() + action.delta);
        case "first":
          return d.setFrame(0);
        case "last":
          return d.setFrame(d.frameCount() - 1);
        case "undo":
          return a.undo();
        case "redo":
          return a.redo();
        case "play":
          return d.playback.toggle();
        case "clear-frame":
          return a.clearFrame();
        case "preview":
          return void d.previews.refresh(d.frame());
        case "new-object":
          return void a.addObject();
        case "select-object": {
          const o = d.objects.list()[action.index];
          return o && d.objects.select(o.id);
        }
        case "cycle-overlay":
          return d.results.cycle(action.delta) || say("No result to view yet.");
        case "matting":
          return t.openMatting();
        case "help":
          return t.openHelp();
        case "prompted": {
          const f = adjacentPromptedFrame(d.prompts.points(), d.frame(), action.direction);
          if (f === null) say(action.direction > 0 ? "No points after this frame." : "No points before this frame.");
          else d.setFrame(f);
          return;
        }
        case "flagged": {
          const f = adjacentFlaggedFrame(d.track.track(), d.frame(), action.direction);
          if (f === null) say(action.direction > 0 ? "No frame to check after this one." : "No frame to check before this one.");
          else d.setFrame(f);
          return;
        }
        case "toggle-mask":
          return t.toggleMask();
        case "zoom":
          return t.zoom(action.direction);
        case "zoom-fit":
          return t.zoomFit();
        case "goto":
          return t.goto();
        case "set-mark":
          return action.mark === "in" ? d.inout.setIn(d.frame()) : d.inout.setOut(d.frame());
        case "go-mark": {
          const f = d.inout.range()[action.mark];
          if (f === null) say(action.mark === "in" ? "No In set (I sets it)." : "No Out set (O sets it).");
          else d.setFrame(f);
          return;
        }
        case "clear-in-out":
          return d.inout.clear();
      }
    },
    bindKeys: (t: KeyTargets) => bindKeys({ blocked: t.blocked, blockedKey: t.blockedKey, run: (action) => a.run(action, t) }),
  };
  return a;
}

export type Actions = ReturnType<typeof createActions>;
