// Saving prompts: one PUT chain per (object, frame), in click order. A save the server could
// not receive (it is down) is held, marked unsaved on the canvas, and sent again when the
// server is back; a save refused for a full disk (507) is held too, told once, and sent again
// at the user's next save or Retry (not in a loop: the disk stays full until room is made); a
// save the server refused otherwise is reported and the server's points shown again. A first
// click, whose object is to be made, has no points to hold yet: it is held as an edit from the
// moment of the click (counted with them while its object is being made too), run at once, and,
// when the full disk refused its object or the server did not answer, made (object, then point)
// at the same retry; when the server was still making it (409 for its key), a while later, a
// few times (about a minute), then at Retry: a server that never finishes it is not asked forever.
import { createSignal, type Accessor } from "solid-js";
import { isDiskFull, isStillAnswered, isUnreachable } from "../api";
import { parseKey, pointKey, type Point } from "../points";

export interface SaverDeps {
  /** `expected`: the points the server should hold now; it refuses (409) when another tab
   * or window changed them, rather than have this save drop that edit. */
  put: (objectId: number, frame: number, points: readonly Point[], expected: readonly Point[]) => Promise<unknown>;
  /** Whether the server is known to answer now; while not, saves are held without trying. */
  online: Accessor<boolean>;
  /** A save landed (the track may be stale now). */
  onSaved: () => void;
  /** The server refused a save: report it and show its points again. */
  onRefused: (error: unknown, objectId: number, frame: number) => void;
  /** A save was refused for a full disk (its points are held): tell the user what to do. */
  onDiskFull: (error: unknown) => void;
}

/** An edit with no points to hold yet (a first click, whose object is to be made): run until it
 * ran. It throws the server's error when it is to be held again (a full disk, no server, the
 * object still being made) and reports any other failure itself. */
export type HeldEdit = () => Promise<void>;

/** How long a held edit whose object the server was still making waits before it asks again:
 * made() has tried for a few seconds already, and the server answers the key once it is done. */
export const BUSY_RETRY_MS = 5000;

/** How many times in a row such an edit is asked again on its own (each round about 9 s with
 * made()'s tries: about a minute), before it waits for Retry: a server whose request for the key
 * never finishes (stuck, or its answer lost for good) is not asked every few seconds forever. */
export const BUSY_RETRIES = 6;

/** Why the held edits wait on a server that answers: it is still making an object for one
 * ("making": asked again on its own a while later), or has not finished it after BUSY_RETRIES
 * rounds ("stalled": asked again at Retry); null when not. */
export type ObjectWait = "making" | "stalled" | null;

export class PromptSaver {
  private readonly chains = new Map<string, Promise<void>>();
  /** The points each key should end up with: the last ones asked for. */
  private readonly wanted = new Map<string, readonly Point[]>();
  /** The points the server is known to hold per key (the last stored, or what an edit began from). */
  private readonly stored = new Map<string, readonly Point[]>();
  /** Objects whose DELETE is on its way: their saves wait for its answer, in `waiting`. Sent
   * now, one would be refused (404) once the object is gone, with a confusing error and a reload. */
  private readonly deleting = new Set<number>();
  private readonly waiting = new Set<string>();
  private readonly heldKeys: Accessor<ReadonlySet<string>>;
  private readonly setHeld: (s: ReadonlySet<string>) => void;
  /** The server's disk was full at the last save: the held saves wait for a retry. */
  readonly diskFull: Accessor<boolean>;
  private readonly setDiskFull: (full: boolean) => void;
  /** Edits held, in click order (each kept until it ran, the one running too). */
  private readonly edits: Accessor<readonly HeldEdit[]>;
  private readonly setEdits: (edits: readonly HeldEdit[]) => void;
  /** The run of the held edits under way, if any. */
  private editsRun: Promise<void> | null = null;
  /** A retry was asked for while the edits ran (the server came back meanwhile): an edit that
   * the run leaves held is tried once more. */
  private runAgain = false;
  private busyTimer: ReturnType<typeof setTimeout> | undefined;
  /** Rounds in a row that found the server still making an object. */
  private busyRounds = 0;
  /** Edits held for no click the user still wants (an undone click's object, maybe made on the
   * server already, asked for until answered so that it shows): not counted, nor taken back. */
  private readonly quiet = new WeakSet<HeldEdit>();
  readonly objectWait: Accessor<ObjectWait>;
  private readonly setObjectWait: (w: ObjectWait) => void;
  /** The editor closed (dispose). */
  private closed = false;

  constructor(private readonly deps: SaverDeps) {
    const [held, setHeld] = createSignal<ReadonlySet<string>>(new Set());
    this.heldKeys = held;
    this.setHeld = setHeld;
    const [diskFull, setDiskFull] = createSignal(false);
    this.diskFull = diskFull;
    this.setDiskFull = setDiskFull;
    const [edits, setEdits] = createSignal<readonly HeldEdit[]>([]);
    this.edits = edits;
    this.setEdits = setEdits;
    const [objectWait, setObjectWait] = createSignal<ObjectWait>(null);
    this.objectWait = objectWait;
    this.setObjectWait = setObjectWait;
  }

  /** How many edits are held (running or waiting), of those `pick` chooses: each one a click
   * the stage cannot show yet (its object is not made yet). */
  heldEdits(pick: (edit: HeldEdit) => boolean = () => true): number {
    return this.heldEditsWhere(pick).length;
  }

  /** The edits held (running or waiting) that `pick` chooses, in click order: the user's clicks
   * the stage cannot show yet. */
  heldEditsWhere(pick: (edit: HeldEdit) => boolean): HeldEdit[] {
    return this.edits().filter((x) => !this.quiet.has(x) && pick(x));
  }

  /** Hold `edit` behind those held already (runHeldEdits runs it). `counted` false: no click
   * of the user's waits on it (it is neither unsaved nor taken back by an undo). */
  holdEdit(edit: HeldEdit, counted = true): void {
    if (!counted) this.quiet.add(edit);
    this.setEdits([...this.edits(), edit]);
  }

  /** Whether `edit` is still held: not taken back (a running one checks before it draws). */
  holdsEdit(edit: HeldEdit): boolean {
    return this.edits().includes(edit);
  }

  /** Take back the last held edit (an undo); it is returned, for a redo to hold it again. */
  takeBackEdit(): HeldEdit | undefined {
    const last = this.heldEditsWhere(() => true).at(-1);
    if (last) this.setEdits(this.edits().filter((x) => x !== last));
    return last;
  }

  /** Take back the held edits `pick` chooses (those of a frame cleared), in click order. */
  takeBackEdits(pick: (edit: HeldEdit) => boolean): HeldEdit[] {
    const taken = this.heldEditsWhere(pick);
    if (taken.length) this.setEdits(this.edits().filter((x) => !taken.includes(x)));
    return taken;
  }

  private refusedForRoom(e: unknown): void {
    // Told once, not at each held save sent again into the same full disk.
    if (!this.diskFull()) this.deps.onDiskFull(e);
    this.setDiskFull(true);
  }

  /** Keys ("object:frame") whose points the server does not have yet because it was down. */
  get unsaved(): Accessor<ReadonlySet<string>> {
    return this.heldKeys;
  }

  /** Whether the server lacks this point: its list is held and did not have it before. */
  isUnsaved(objectId: number, frame: number, point: Point): boolean {
    const key = pointKey(objectId, frame);
    if (!this.heldKeys().has(key)) return false;
    return !(this.stored.get(key) ?? []).some((q) => q.x === point.x && q.y === point.y && q.label === point.label);
  }

  /**
   * Save the points of (object, frame); resolves when they are stored, or held for later.
   * `before`: the list the edit began from (what the server holds, unless a save is under way).
   */
  save(objectId: number, frame: number, points: readonly Point[], before: readonly Point[] = []): Promise<void> {
    // Closed: the user left, giving the held points up; an answer that came later (room made,
    // a delete refused) sends none of them to the project left.
    if (this.closed) return Promise.resolve();
    const key = pointKey(objectId, frame);
    if (!this.stored.has(key) && !this.chains.has(key)) this.stored.set(key, before);
    this.wanted.set(key, points);
    if (!this.deps.online()) {
      this.hold(key, true);
      return Promise.resolve();
    }
    const prev = this.chains.get(key) ?? Promise.resolve();
    const p = prev.then(() => this.send(key, objectId, frame, points));
    this.chains.set(key, p);
    void p.finally(() => {
      if (this.chains.get(key) === p) this.chains.delete(key);
    });
    return p;
  }

  private async send(key: string, objectId: number, frame: number, points: readonly Point[]): Promise<void> {
    if (this.wanted.get(key) !== points) return; // a newer save of this key follows
    if (this.deleting.has(objectId)) return void this.waiting.add(key);
    try {
      await this.deps.put(objectId, frame, points, this.stored.get(key) ?? []);
    } catch (e) {
      if (isUnreachable(e)) return this.hold(key, true);
      if (isDiskFull(e)) {
        this.hold(key, true);
        this.refusedForRoom(e);
        return;
      }
      // Sent just before the DELETE and answered after it: what the DELETE's answer says decides.
      if (this.deleting.has(objectId)) return void this.waiting.add(key);
      this.hold(key, false);
      this.wanted.delete(key);
      this.stored.delete(key); // the server's points are read again
      this.deps.onRefused(e, objectId, frame);
      return;
    }
    this.stored.set(key, points);
    if (this.wanted.get(key) === points) {
      this.wanted.delete(key);
      this.hold(key, false);
    }
    // Room was made: the saves held for the full disk go now.
    if (this.diskFull()) void this.retry();
    this.deps.onSaved();
  }

  private hold(key: string, on: boolean): void {
    const cur = this.heldKeys();
    if (cur.has(key) === on) return;
    const next = new Set(cur);
    if (on) next.add(key);
    else next.delete(key);
    this.setHeld(next);
  }

  /** The points of each key whose save has not landed (held, waiting, or on its way): what
   * the stage shows for it, which a read of the server's points does not have yet. */
  pendingPoints(): ReadonlyMap<string, readonly Point[]> {
    return new Map(this.wanted);
  }

  /** Saves still running for `frame` (a preview of it waits for them). */
  pendingOn(frame: number): Promise<void>[] {
    return [...this.chains.entries()].filter(([k]) => parseKey(k).frame === frame).map(([, p]) => p);
  }

  /** No save is running or held: the server holds the points this tab shows (as far as
   * this tab knows), and may show its own instead. */
  settled(): boolean {
    return this.chains.size === 0 && this.heldKeys().size === 0 && this.waiting.size === 0 && this.heldEdits() === 0;
  }

  /** Points are held in this tab only: the server was away, or their object's delete is on
   * its way (a save on the wire is not: the server has it). */
  holding(): boolean {
    return this.heldKeys().size > 0 || this.waiting.size > 0 || this.heldEdits() > 0;
  }

  /** The saves on the wire now, resolved once each is answered (stored, held or refused);
   * undefined when none is. Leaving the project waits for them: one refused for a full disk
   * is held then, in this editor only. */
  sending(): Promise<void> | undefined {
    return this.chains.size ? this.idle() : undefined;
  }

  /** Resolves when every save under way has landed (a track must see the points). */
  idle(): Promise<void> {
    return Promise.all(this.chains.values()).then(() => undefined);
  }

  /** Resolves once no save is on the wire and no held edit runs, those asked meanwhile too (a
   * click made after Track was pressed): what is left then is held (held, waiting), which
   * holding() says. */
  async landed(): Promise<void> {
    while (this.chains.size || this.editsRun) await Promise.all([...this.chains.values(), this.editsRun]);
  }

  /** Send every held save again and run the held edits (the server is back, or room was made
   * on its disk). */
  retry(): Promise<void> {
    this.setDiskFull(false);
    this.runAgain = true;
    // Asked (Retry, the server back, room made): a new round of tries, which the toolbar says
    // at once rather than go on offering Retry while it runs.
    this.busyRounds = 0;
    if (this.objectWait() === "stalled") this.setObjectWait(this.edits().length ? "making" : null);
    const jobs = [...this.heldKeys()].map((key) => {
      const { objectId, frame } = parseKey(key);
      return this.save(objectId, frame, this.wanted.get(key) ?? [], this.stored.get(key));
    });
    return Promise.all([this.runHeldEdits(), ...jobs]).then(() => undefined);
  }

  /** Run the held edits one after the other, in click order, each dropped once it ran; the
   * first held again keeps itself and those after it. Those held meanwhile run in the same turn
   * (asked while one runs, it resolves with that run). Not while the server is away: they wait
   * for its return, as held saves do. */
  runHeldEdits(): Promise<void> {
    if (this.editsRun) return this.editsRun;
    if (!this.deps.online() || this.closed) return Promise.resolve();
    clearTimeout(this.busyTimer);
    this.editsRun = this.runEdits().finally(() => (this.editsRun = null));
    return this.editsRun;
  }

  private async runEdits(): Promise<void> {
    this.runAgain = false;
    while (this.edits().length) {
      const edit = this.edits()[0];
      try {
        await edit();
      } catch (e) {
        this.setObjectWait(null);
        if (isDiskFull(e)) this.refusedForRoom(e);
        // The server was still making its object: asked again a while later (the user need
        // not press anything: the server answers the key once it is done), a few times.
        else if (isStillAnswered(e)) this.stillMaking();
        // Back while it ran (its tries outlasted the outage): the return's retry found it
        // running, so it runs once more now. Not a loop: its next failure to reach the server
        // marks it away.
        else if (isUnreachable(e) && this.runAgain && this.deps.online()) return this.runEdits();
        return;
      }
      this.busyRounds = 0;
      this.setObjectWait(null);
      this.setEdits(this.edits().filter((x) => x !== edit));
    }
    this.setObjectWait(null); // none left (the waiting ones were undone meanwhile)
  }

  private stillMaking(): void {
    if (this.busyRounds++ >= BUSY_RETRIES) return this.setObjectWait("stalled");
    this.setObjectWait("making");
    this.busyTimer = setTimeout(() => void this.runHeldEdits(), BUSY_RETRY_MS);
  }

  /** The project's objects were read anew (the tab shown again, a refused save): the one the
   * server had not finished making after a minute may be among them. Its held edit is asked
   * once more (the key's answer is at hand then), rather than the toolbar going on saying it
   * is still being made until Retry. */
  objectsRead(): void {
    if (this.objectWait() === "stalled") void this.runHeldEdits();
  }

  /** The editor closes (the user left the project, having been asked): the held edits are
   * given up, the one running too (it checks holdsEdit before it draws or reports), and none
   * runs later, nor is any save sent: nothing more goes to the project left. */
  dispose(): void {
    this.closed = true;
    clearTimeout(this.busyTimer);
    this.setEdits([]);
  }

  /** Forget an object's held and waiting saves (it was deleted). */
  dropObject(objectId: number): void {
    for (const key of [...this.wanted.keys(), ...this.waiting]) {
      if (parseKey(key).objectId !== objectId) continue;
      this.wanted.delete(key);
      this.stored.delete(key);
      this.waiting.delete(key);
      this.hold(key, false);
    }
  }

  /** The object's DELETE is on its way: its saves (an undo, a redo, a cleared frame) wait for
   * the answer instead of racing it. */
  holdObject(objectId: number): void {
    this.deleting.add(objectId);
  }

  /** Some saves wait for their object's DELETE to be answered (no toolbar note says so: a
   * refused track or job names the delete itself). */
  waitsOnDelete(): boolean {
    return this.waiting.size > 0;
  }

  /** The object's DELETE was answered: `gone`, its waiting saves are forgotten; else (refused,
   * or the server away) they are sent now. */
  releaseObject(objectId: number, gone: boolean): Promise<void> {
    this.deleting.delete(objectId);
    if (gone) {
      this.dropObject(objectId);
      return Promise.resolve();
    }
    const keys = [...this.waiting].filter((k) => parseKey(k).objectId === objectId);
    const sends = keys.map((key) => {
      this.waiting.delete(key);
      return this.save(objectId, parseKey(key).frame, this.wanted.get(key) ?? [], this.stored.get(key));
    });
    return Promise.all(sends).then(() => undefined);
  }
}

/** Why the held clicks are not on the server: it does not answer, its disk is full, it is still
 * making their object, their object's delete is on its way, or else (a retry under way). */
export type HeldCause = "offline" | "disk-full" | "object" | "delete" | "other";

const CAUSES: Record<HeldCause, (one: boolean) => string> = {
  offline: () => ": the server does not answer",
  "disk-full": () => ": the server's disk is full",
  object: (one) => `: the server is still making ${one ? "its" : "their"} object`,
  delete: () => ": an object's delete is on its way",
  other: () => "",
};

/** What a track or a job refused for `n` clicks the server lacks says: it would run without
 * them, with nothing to tell the user its result misses them. */
export function notSavedText(n: number, cause: HeldCause, work: "track" | "job"): string {
  const one = n === 1;
  const them = one ? "it" : "them";
  const again = work === "track" ? "track again" : "start it again";
  const next =
    cause === "disk-full"
      ? `make room, press Retry in the toolbar, then ${again}`
      : cause === "object"
        ? `${again} once ${one ? "it is" : "they are"} saved (Retry in the toolbar asks again)`
        : cause === "delete"
          ? // The toolbar shows no note for it: the delete's answer (the object gone, or not) is what to wait for.
            `${again} once the delete is answered`
          : `${again} once ${one ? "it is" : "they are"} saved (the toolbar says when)`;
  const whose = work === "track" ? "The track" : "The job";
  return `${n} click${one ? " is" : "s are"} not saved yet${CAUSES[cause](one)}. ${whose} would run without ${them}: ${next}.`;
}
