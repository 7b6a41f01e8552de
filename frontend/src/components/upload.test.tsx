// Adding a video: what is refused, what one upload shows from first byte to added or
// cancelled, and what a drop on the window does, over a fake transport.
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createRoot } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, UploadCancelled, UploadGaveUp, type Project, type Upload, type UploadFields, type UploadRetry } from "../api";
import { useFocusTrap } from "../focusTrap";
import { pendingFps } from "../sequenceFps";
import { fakeKeyAnswers } from "../test/keys";
import { fakeXhr } from "../test/xhr";
import { dismiss, toasts } from "../toasts";
import { SequenceFpsHost } from "./SequenceFpsHost";
import { ProjectsPanel } from "./ProjectsPanel";
import { UploadFailed, UploadProgress } from "./UploadProgress";
import { MAY_BE_MADE, UPLOAD_ACCEPT, createUpload, looksLikeVideo, uploadPercent, useFileDrop } from "./upload";

const video = (name = "clip.mp4", size = 4_000_000) => new File([new Uint8Array(size)], name, { type: "video/mp4" });
const texts = () => toasts().map((t) => `${t.kind}: ${t.title ? `${t.title}: ` : ""}${t.text}`);

const project: Project = {
  id: "p1",
  name: "clip",
  filename: "clip.mp4",
  created_at: "",
  video: { width: 320, height: 180, fps: 25, frame_count: 36, duration: 1.44, rotation: 0, codec: "h264", has_audio: false, pixel_aspect: 1 },
  has_track: false,
};

/** A transport whose one upload the test drives: progress, then the server's answer or a cancel. */
function transport() {
  const t = {
    sent: [] as string[],
    fields: [] as UploadFields[],
    progress: (_loaded: number, _total: number) => {},
    keys: [] as (string | undefined)[],
    retry: (_r: UploadRetry) => {},
    finish: (_p: Project) => {},
    fail: (_e: unknown) => {},
    cancel: () => {},
    send: (file: File, onProgress: (loaded: number, total: number) => void, fields: UploadFields = {}, key?: string, onRetry?: (r: UploadRetry) => void): Upload => {
      t.sent.push(file.name);
      t.fields.push(fields);
      t.keys.push(key);
      t.progress = onProgress;
      t.retry = (r) => onRetry?.(r);
      const promise = new Promise<Project>((resolve, reject) => {
        t.finish = resolve;
        t.fail = reject;
        t.cancel = () => reject(new UploadCancelled());
      });
      return { promise, abort: () => t.cancel() };
    },
  };
  return t;
}

afterEach(() => {
  toasts().forEach((t) => dismiss(t.id));
  pendingFps()?.resolve(null); // a dialog a test left open
  localStorage.clear();
});

describe("upload", () => {
  it("takes videos by type or by name", () => {
    expect(looksLikeVideo(video())).toBe(true);
    expect(looksLikeVideo(new File([], "take 2.MKV"))).toBe(true);
    expect(looksLikeVideo(new File([], "shot.zip", { type: "application/zip" }))).toBe(true);
    expect(looksLikeVideo(new File([], "plates", { type: "application/x-zip-compressed" }))).toBe(true);
    expect(looksLikeVideo(new File([], "notes.txt", { type: "text/plain" }))).toBe(false);
    expect(uploadPercent({ loaded: 1, total: 3 })).toBe(33);
    expect(uploadPercent({ loaded: 0, total: 0 })).toBe(0);
    expect(uploadPercent(null)).toBe(0);
  });

  it("refuses what is not a video and a second upload while one runs", async () => {
    const t = transport();
    let settled = 0;
    const up = createRoot(() => createUpload({ onAdded: () => {}, onSettled: () => settled++, send: t.send }));
    await up.start(new File(["x"], "notes.txt", { type: "text/plain" }));
    expect(t.sent).toEqual([]);
    expect(texts()).toEqual(['error: Upload refused: "notes.txt" does not look like a video file, or a zip or folder of images.']);

    const first = up.start(video());
    await up.start(video("other.mp4"));
    expect(t.sent).toEqual(["clip.mp4"]);
    expect(texts()).toContain("error: Wait for the current upload to finish.");
    t.finish(project);
    await first;
    expect(settled).toBe(1);
  });

  it("shows bytes sent, then processing, and hands over the added project", async () => {
    const t = transport();
    const added: string[] = [];
    const up = createRoot(() => createUpload({ onAdded: (p) => added.push(p.id), onSettled: () => {}, send: t.send }));
    render(() => <>{up.current() && <UploadProgress upload={up.current()!} />}</>);
    const done = up.start(video());
    const box = () => screen.getByTestId("upload-progress");
    expect(box().dataset.percent).toBe("0");
    expect(box().textContent).toContain("Uploading clip.mp4");
    t.progress(1_000_000, 4_000_000);
    expect(box().dataset.percent).toBe("25");
    expect(box().textContent).toContain("25%");
    expect(box().textContent).toContain("1.0 / 4.0 MB");
    t.progress(4_000_000, 4_000_000);
    expect(box().textContent).toContain("Processing clip.mp4");
    expect(box().textContent).toContain("reading the video…");
    t.finish(project);
    await done;
    expect(added).toEqual(["p1"]);
    expect(up.current()).toBeNull();
    expect(screen.queryByTestId("upload-progress")).toBeNull();
    expect(texts()).toEqual(['success: Added "clip" (36 frames).']);
  });

  it("takes the broadcast and camera files the server reads, and its file chooser offers every file an upload takes", () => {
    expect(looksLikeVideo(new File([], "A001C003.MXF", { type: "application/mxf" }))).toBe(true);
    expect(looksLikeVideo(new File([], "00001.m2ts"))).toBe(true);
    const offered = UPLOAD_ACCEPT.split(",");
    for (const name of ["loop.gif", "A001C003.mxf", "take.mkv", "00001.m2ts", "shot.zip", "plates.tar"]) {
      expect(offered, name).toContain(name.slice(name.lastIndexOf(".")));
      expect(looksLikeVideo(new File([], name)), name).toBe(true);
    }
    expect(offered).toContain("video/*");
  });

  it("says once, as a message that is no error, what the server noted about how the video is read", async () => {
    const t = transport();
    const up = createRoot(() => createUpload({ onAdded: () => {}, onSettled: () => {}, send: t.send }));
    const done = up.start(video());
    const notes = ["the file is cut short (truncated): only its first 36 frames are there, and those are used", "the video's alpha channel is ignored: its colour is used as stored and the matte is made anew"];
    t.finish({ ...project, video: { ...project.video, notes } });
    await done;
    expect(texts()).toEqual([
      'success: Added "clip" (36 frames).',
      'info: About "clip": The file is cut short (truncated): only its first 36 frames are there, and those are used. The video\'s alpha channel is ignored: its colour is used as stored and the matte is made anew.',
    ]);
  });

  it("has the browser ask before the page is left while an upload is on its way, and only then", async () => {
    const t = transport();
    const up = createRoot(() => createUpload({ onAdded: () => {}, onSettled: () => {}, send: t.send }));
    const leave = () => !window.dispatchEvent(new Event("beforeunload", { cancelable: true })); // true: the browser asks
    expect(leave()).toBe(false);
    const done = up.start(video());
    expect(leave()).toBe(true);
    t.finish(project);
    await done;
    expect(leave()).toBe(false);
  });

  it("says a cancelled upload was cancelled, not failed", async () => {
    const t = transport();
    let settled = 0;
    const up = createRoot(() => createUpload({ onAdded: () => {}, onSettled: () => settled++, send: t.send }));
    render(() => <>{up.current() && <UploadProgress upload={up.current()!} />}</>);
    const done = up.start(video());
    fireEvent.click(screen.getByText("Cancel"));
    await done;
    expect(texts()).toEqual(['info: Upload of "clip.mp4" cancelled.']);
    expect(settled).toBe(1);
    expect(up.current()).toBeNull();
  });

  it("offers no Cancel once every byte is sent: the server is already making the project", async () => {
    const t = transport();
    const up = createRoot(() => createUpload({ onAdded: () => {}, onSettled: () => {}, send: t.send }));
    render(() => <>{up.current() && <UploadProgress upload={up.current()!} />}</>);
    const done = up.start(video());
    t.progress(4_000_000, 4_000_000);
    expect(screen.queryByText("Cancel")).toBeNull();
    expect(screen.getByTestId("upload-progress").textContent).toContain("it can no longer be cancelled");
    t.finish(project);
    await done;
  });
});

describe("an upload whose connection fails", () => {
  const lost = "Cannot reach the server. Is `vidmatte serve` running?";

  it("says, where a screen reader hears it, that the file is being sent again and why", async () => {
    const t = transport();
    const up = createRoot(() => createUpload({ onAdded: () => {}, onSettled: () => {}, send: t.send }));
    render(() => <>{up.current() && <UploadProgress upload={up.current()!} />}</>);
    const done = up.start(video());
    const live = () => screen.getByTestId("upload-retry");
    expect([live().getAttribute("aria-live"), live().getAttribute("role"), live().textContent]).toEqual(["polite", "status", ""]);
    t.progress(4_000_000, 4_000_000);
    t.retry({ attempt: 2, tries: 4, reason: lost, delayMs: 2000 });
    expect(live().textContent).toBe(`${lost} Sending again in 2 s (try 2 of 4).`);
    expect(screen.getByText("Cancel")).toBeTruthy(); // not the project yet: the retry may be stopped
    t.progress(0, 4_000_000);
    expect(live().textContent).toBe("Sending again (try 2 of 4).");
    t.finish(project);
    await done;
    expect(texts()).toEqual(['success: Added "clip" (36 frames).']);
  });

  it("a cancel after a try that reached the server whole says the project may be there, and reads the list again", async () => {
    const t = transport();
    let reread = 0;
    const up = createRoot(() => createUpload({ onAdded: () => {}, onMaybeAdded: () => reread++, send: t.send }));
    const late = up.start(video());
    t.fail(new UploadCancelled(true));
    await late;
    expect(texts()).toEqual([`info: Upload of "clip.mp4" cancelled.${MAY_BE_MADE}`]);
    expect(reread).toBe(1);
    toasts().forEach((x) => dismiss(x.id));
    const early = up.start(video());
    t.fail(new UploadCancelled(false)); // no try got through whole: nothing was made
    await early;
    expect(texts()).toEqual(['info: Upload of "clip.mp4" cancelled.']);
    expect(reread).toBe(1);
  });

  it("offers a failed upload again, sending the same file with the same key without its being chosen again", async () => {
    const t = transport();
    const added: string[] = [];
    const up = createRoot(() => createUpload({ onAdded: (p) => added.push(p.id), onSettled: () => {}, send: t.send }));
    render(() => (
      <>
        {up.current() && <UploadProgress upload={up.current()!} />}
        {!up.current() && up.failed() && <UploadFailed failed={up.failed()!} onRetry={() => void up.retry()} onDismiss={up.dismissFailed} />}
      </>
    ));
    const first = up.start(video());
    const gaveUp = `${lost} Gave up after 4 tries; Retry upload asks the server first and sends the file again only if it has not made the project.`;
    t.fail(new UploadGaveUp(new ApiError(0, lost), 4));
    await first;
    expect(texts()).toEqual([`error: Upload of "clip.mp4" failed: ${gaveUp}`]);
    expect(screen.getByTestId("upload-failed").textContent).toContain(gaveUp);
    fireEvent.click(screen.getByRole("button", { name: "Retry upload" }));
    expect(screen.queryByTestId("upload-failed")).toBeNull();
    expect(screen.getByTestId("upload-progress").textContent).toContain("Uploading clip.mp4");
    t.finish(project);
    await vi.waitFor(() => expect(added).toEqual(["p1"]));
    expect(t.sent).toEqual(["clip.mp4", "clip.mp4"]);
    expect(t.keys[0]).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(t.keys[1]).toBe(t.keys[0]);
    // A file chosen anew is another upload, with its own key.
    const next = up.start(video("other.mp4"));
    t.finish(project);
    await next;
    expect(t.keys[2]).not.toBe(t.keys[0]);
  });

  it("offers nothing again that the server refused, and lets an offer be dismissed", async () => {
    const t = transport();
    const up = createRoot(() => createUpload({ onAdded: () => {}, onSettled: () => {}, send: t.send }));
    const refused = up.start(video());
    t.fail(new ApiError(422, "not a video"));
    await refused;
    expect(up.failed()).toBeNull();
    const lostOne = up.start(video());
    t.fail(new UploadGaveUp(new ApiError(409, "a request with Idempotency-Key 'k' (POST /api/projects) is still being answered"), 4));
    await lostOne;
    expect(up.failed()?.message).toBe("The server is still answering an earlier try of this upload. Gave up after 4 tries; Retry upload asks the server first and sends the file again only if it has not made the project.");
    up.dismissFailed();
    expect(up.failed()).toBeNull();
  });
});

describe("image sequence upload", () => {
  const zip = (name = "shot.zip") => new File([new Uint8Array(100)], name, { type: "application/zip" });
  const flush = () => new Promise((r) => setTimeout(r, 0));
  function setup() {
    const t = transport();
    let settled = 0;
    const up = createRoot(() => createUpload({ onAdded: () => {}, onSettled: () => settled++, send: t.send }));
    render(() => <SequenceFpsHost />);
    return { t, up, settled: () => settled };
  }
  const dialog = () => screen.queryByRole("dialog", { name: "Frame rate of the image sequence" });

  it("asks a zip's frame rate first (the images' own, then the last chosen) and sends it; a video is sent without one", async () => {
    const { t, up } = setup();
    const stated = () => screen.getByRole("radio", { name: "As the images state (EXR, DPX; 24 for others)" });
    const first = up.start(zip("scan.zip"));
    expect(t.sent).toEqual([]); // nothing before the rate
    expect(stated()).toHaveProperty("checked", true);
    expect(document.activeElement).toBe(stated());
    fireEvent.click(screen.getByRole("button", { name: "Upload" }));
    await flush();
    expect(t.fields).toEqual([{}]); // no fps: the server takes the images' own
    t.finish(project);
    await first;

    t.fields.length = 0;
    const done = up.start(zip());
    expect(dialog()?.textContent).toContain('"shot.zip" holds numbered images');
    expect(stated()).toHaveProperty("checked", true); // remembered
    fireEvent.click(screen.getByRole("radio", { name: "25" }));
    fireEvent.click(screen.getByRole("button", { name: "Upload" }));
    await flush();
    expect(dialog()).toBeNull();
    expect(t.sent).toEqual(["scan.zip", "shot.zip"]);
    expect(t.fields).toEqual([{ fps: 25 }]);
    t.finish(project);
    await done;

    const next = up.start(zip("other.zip"));
    expect(screen.getByRole("radio", { name: "25" })).toHaveProperty("checked", true); // remembered
    fireEvent.click(screen.getByRole("radio", { name: "23.976" }));
    fireEvent.click(screen.getByRole("button", { name: "Upload" }));
    await flush();
    expect(t.fields[1]).toEqual({ fps: 23.976 });
    t.finish(project);
    await next;

    const plain = up.start(video());
    expect(dialog()).toBeNull();
    expect(t.fields[2]).toEqual({});
    t.finish(project);
    await plain;
  });

  it("takes another rate typed in, refusing one outside 1..240 with the reason", async () => {
    const { t, up } = setup();
    const done = up.start(zip());
    const field = screen.getByRole("textbox", { name: "Other rate (fps)" });
    fireEvent.input(field, { target: { value: "300" } });
    expect(screen.getByRole("radio", { name: "Other" })).toHaveProperty("checked", true);
    fireEvent.click(screen.getByRole("button", { name: "Upload" }));
    await flush();
    expect(screen.getByRole("alert").textContent).toBe("Enter a frame rate from 1 to 240 fps, e.g. 25 or 23.976.");
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(field.getAttribute("aria-describedby")).toBe("fps-error");
    expect(document.activeElement).toBe(field);
    expect(t.sent).toEqual([]);
    fireEvent.input(field, { target: { value: "12.5" } });
    expect(screen.queryByRole("alert")).toBeNull();
    fireEvent.submit(field.closest("form")!); // Enter in the field
    await flush();
    expect(t.fields).toEqual([{ fps: 12.5 }]);
    t.finish(project);
    await done;
    up.start(zip()); // a rate not among the presets comes back as Other's
    expect(screen.getByRole("radio", { name: "Other" })).toHaveProperty("checked", true);
    expect((screen.getByRole("textbox", { name: "Other rate (fps)" }) as HTMLInputElement).value).toBe("12.5");
  });

  it("stays open when Escape only drops an input method's composition in the typed rate", async () => {
    const { t, up } = setup();
    const done = up.start(zip());
    const typed = screen.getByRole("textbox", { name: "Other rate (fps)" });
    fireEvent.keyDown(typed, { key: "Escape", isComposing: true });
    fireEvent.keyDown(typed, { key: "Escape", keyCode: 229 });
    expect(dialog()).not.toBeNull();
    fireEvent.keyDown(typed, { key: "Escape" }); // a plain Escape still cancels
    await done;
    expect(dialog()).toBeNull();
    expect(t.sent).toEqual([]);
  });

  it("uploads nothing when cancelled (button or Escape), remembers nothing, and frees the picker", async () => {
    const { t, up, settled } = setup();
    const first = up.start(zip());
    fireEvent.click(screen.getByRole("radio", { name: "50" }));
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    await first;
    expect(dialog()).toBeNull();
    const second = up.start(zip());
    expect(screen.getByRole("radio", { name: /As the images state/ })).toHaveProperty("checked", true);
    await up.start(video()); // the dialog's upload comes first
    expect(texts()).toEqual(["error: Wait for the current upload to finish."]);
    fireEvent.keyDown(window, { key: "Escape" });
    await second;
    expect(dialog()).toBeNull();
    expect(t.sent).toEqual([]);
    expect(texts()).toEqual(["error: Wait for the current upload to finish."]); // a cancel is no failure
    expect(settled()).toBe(2);
  });
});

describe("file drop", () => {
  /** A drag event as the browser sends it, carrying `types` and `files`. */
  function drag(type: string, types: string[], files: File[] = [], target: EventTarget = window): Event {
    const e = new Event(type, { bubbles: true, cancelable: true });
    Object.defineProperty(e, "dataTransfer", { value: { types, files, dropEffect: "" } });
    target.dispatchEvent(e);
    return e;
  }

  it("takes the first dropped file, says so when there were more, and never lets the browser open it", () => {
    const got: string[] = [];
    // listening starts on mount, which runs as the root is made
    const { over, dispose } = createRoot((dispose) => ({ over: useFileDrop((f) => got.push(f.name)), dispose }));
    expect(drag("dragover", ["Files"]).defaultPrevented).toBe(true);
    expect(over()).toBe(true);
    drag("dragleave", ["Files"]);
    expect(over()).toBe(false); // left the window
    drag("dragover", ["Files"]);
    expect(drag("drop", ["Files"], [video("a.mp4"), video("b.mp4")]).defaultPrevented).toBe(true);
    expect(over()).toBe(false);
    expect(got).toEqual(["a.mp4"]);
    expect(texts()).toEqual(['error: Drop one video at a time; uploading "a.mp4".']);
    expect(drag("drop", ["text/uri-list"]).defaultPrevented).toBe(true); // a dragged link is not followed
    expect(got).toEqual(["a.mp4"]);
    dispose();
    expect(drag("drop", ["Files"], [video("late.mp4")]).defaultPrevented).toBe(false); // listeners gone
    expect(got).toEqual(["a.mp4"]);
  });

  it("takes the first video among the dropped files, and the first file when none is one (to be refused by name)", () => {
    const got: string[] = [];
    const dispose = createRoot((dispose) => (useFileDrop((f) => got.push(f.name)), dispose));
    const notes = new File(["x"], "notes.txt", { type: "text/plain" });
    drag("drop", ["Files"], [notes, video("clip.mp4")]);
    expect(got).toEqual(["clip.mp4"]);
    expect(texts()).toEqual([]); // one video: nothing to warn about
    drag("drop", ["Files"], [notes, new File(["x"], "shot.png", { type: "image/png" })]);
    expect(got).toEqual(["clip.mp4", "notes.txt"]);
    dispose();
  });

  it("ignores a drop while a modal dialog is open, and offers no drop target", () => {
    const got: string[] = [];
    const dispose = createRoot((dispose) => (useFileDrop((f) => got.push(f.name)), dispose));
    const dialog = document.createElement("div");
    document.body.append(dialog);
    const closeDialog = createRoot((close) => (useFocusTrap(() => dialog), close));
    const over = drag("dragover", ["Files"]) as DragEvent;
    expect(over.defaultPrevented).toBe(true);
    expect(over.dataTransfer?.dropEffect).toBe("none");
    expect(drag("drop", ["Files"], [video()]).defaultPrevented).toBe(true); // still never opened by the browser
    expect(got).toEqual([]);
    closeDialog();
    dialog.remove();
    drag("drop", ["Files"], [video()]);
    expect(got).toEqual(["clip.mp4"]);
    dispose();
  });

  it("packs a dropped folder as one tar of its images and takes that", async () => {
    const got: File[] = [];
    const dispose = createRoot((dispose) => (useFileDrop((f) => got.push(f)), dispose));
    const entry = (name: string) => ({ isFile: true, isDirectory: false, name, file: (ok: (f: File) => void) => ok(new File(["x"], name)) });
    const batches = [[entry("p.0001.exr"), entry("p.0002.exr")], []];
    const folder = { isFile: false, isDirectory: true, name: "plates", createReader: () => ({ readEntries: (ok: (e: unknown[]) => void) => ok(batches.shift()!) }) };
    const e = new Event("drop", { bubbles: true, cancelable: true });
    const items = [{ webkitGetAsEntry: () => folder }];
    Object.defineProperty(e, "dataTransfer", { value: { types: ["Files"], files: [new File([], "plates")], items, dropEffect: "" } });
    window.dispatchEvent(e);
    expect(e.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect(got.map((f) => [f.name, f.size])).toEqual([["plates.tar", 4 * 512 + 1024]]));
    dispose();
  });

  it("lets text dragged into a text field land there", () => {
    const field = document.createElement("input");
    document.body.append(field);
    const dispose = createRoot((dispose) => (useFileDrop(() => {}), dispose));
    expect(drag("dragover", ["text/plain"], [], field).defaultPrevented).toBe(false);
    expect(drag("drop", ["text/plain"], [], field).defaultPrevented).toBe(false);
    expect(drag("drop", ["Files"], [], field).defaultPrevented).toBe(true); // files never do
    dispose();
    field.remove();
  });
});

describe("file chooser", () => {
  /** `input` as the browser leaves it once `files` are chosen: the files, and a value naming the first. */
  function choose(input: HTMLInputElement, files: File[]): () => string {
    let value = files.length ? `C:\\fakepath\\${files[0].name}` : "";
    Object.defineProperty(input, "files", { configurable: true, get: () => (value ? files : []) });
    Object.defineProperty(input, "value", { configurable: true, get: () => value, set: (v: string) => (value = v) });
    fireEvent.change(input);
    return () => value;
  }
  const panel = () =>
    render(() => <ProjectsPanel projects={[]} loading={false} selectedId={null} onSelect={() => {}} onChanged={() => {}} onDeleted={() => {}} />);

  it("lets a refused file be chosen again: the chooser is emptied as soon as it is read", () => {
    panel();
    const value = choose(screen.getByTestId("upload-input") as HTMLInputElement, [new File(["x"], "notes.txt", { type: "text/plain" })]);
    expect(texts()).toEqual(['error: Upload refused: "notes.txt" does not look like a video file, or a zip or folder of images.']);
    expect(value()).toBe(""); // the same file chosen again fires a change
  });

  it("sends a chosen file again by itself when its connection drops, then offers it again, one key throughout", async () => {
    const changed: string[] = [];
    const keys = fakeXhr([
      ...Array.from({ length: 4 }, () => ({ sent: 0.4, answer: "error" as const })),
      { sent: 1, answer: { status: 201, body: project } },
    ]);
    fakeKeyAnswers([]); // the key has no answer: each retry sends the file again
    vi.useFakeTimers();
    try {
      render(() => <ProjectsPanel projects={[]} loading={false} selectedId={null} onSelect={() => {}} onChanged={(id) => changed.push(id ?? "")} onDeleted={() => {}} />);
      choose(screen.getByTestId("upload-input") as HTMLInputElement, [video()]);
      await vi.advanceTimersByTimeAsync(1000);
      expect(screen.getByTestId("upload-retry").textContent).toBe("Cannot reach the server. Is `vidmatte serve` running? Sending again in 2 s (try 2 of 4).");
      await vi.advanceTimersByTimeAsync(30_000);
      expect(keys).toHaveLength(4);
      expect(screen.queryByTestId("upload-progress")).toBeNull();
      expect(screen.getByTestId("upload-failed").textContent).toContain("Gave up after 4 tries");
      fireEvent.click(screen.getByRole("button", { name: "Retry upload" }));
      await vi.advanceTimersByTimeAsync(1000);
    } finally {
      vi.useRealTimers();
    }
    expect(changed).toEqual(["p1"]);
    expect(screen.queryByTestId("upload-failed")).toBeNull();
    expect(new Set(keys.map((h) => h["Idempotency-Key"])).size).toBe(1);
    expect(keys).toHaveLength(5);
    vi.unstubAllGlobals();
  });

  it("empties the folder chooser too, whether or not the folder is taken", () => {
    panel();
    const value = choose(screen.getByTestId("folder-input") as HTMLInputElement, [new File(["x"], "readme.txt")]);
    expect(texts()).toHaveLength(1);
    expect(texts()[0]).toMatch(/^error: Folder refused: /);
    expect(value()).toBe("");
  });
});
