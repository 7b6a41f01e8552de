// A zip of numbered PNGs in the real browser against the real server: the editor asks its
// frame rate before anything is sent, the project is made at that rate (23.976 as exactly
// 24000/1001), Cancel sends nothing, and a video is still sent without one (the server
// refuses an fps with a video).
import { expect, test, type APIRequestContext, type Page, type Request } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FIXTURE, ok } from "./video";

const repo = resolve(import.meta.dirname, "..", "..");
const FRAMES = 6;

/** plates.zip: `FRAMES` 64×48 PNGs plate.1001.png … (Pillow in the backend's venv). */
function platesZip(): string {
  const path = join(mkdtempSync(join(tmpdir(), "vidmatte-e2e-seq-")), "plates.zip");
  const script = `import io, zipfile; from PIL import Image
with zipfile.ZipFile(${JSON.stringify(path)}, "w") as z:
    for i in range(${FRAMES}):
        b = io.BytesIO(); Image.new("RGB", (64, 48), (40 * i, 90, 200 - 30 * i)).save(b, format="PNG")
        z.writestr(f"plate.{1001 + i}.png", b.getvalue())`;
  const python = join(repo, ".venv", "bin", "python");
  const [cmd, args] = existsSync(python) ? [python, ["-c", script]] : ["uv", ["run", "python", "-c", script]];
  execFileSync(cmd, args, { stdio: "inherit" });
  return path;
}

/** The plates as a folder, `plates/` beside the zip (the zip unpacked). */
function platesFolder(zip: string): string {
  const folder = join(zip, "..", "plates");
  const script = `import zipfile; zipfile.ZipFile(${JSON.stringify(zip)}).extractall(${JSON.stringify(folder)})`;
  const python = join(repo, ".venv", "bin", "python");
  const [cmd, args] = existsSync(python) ? [python, ["-c", script]] : ["uv", ["run", "python", "-c", script]];
  execFileSync(cmd, args, { stdio: "inherit" });
  return folder;
}

/** Drop `path` on the page as the OS would (dragenter, dragover, drop on the welcome card). */
async function dropFile(page: Page, path: string, name: string, type: string): Promise<void> {
  await page.evaluate(
    ({ data, name, type }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type }));
      const target = document.querySelector("[data-testid=welcome]") ?? document.body;
      for (const t of ["dragenter", "dragover", "drop"]) target.dispatchEvent(new DragEvent(t, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { data: readFileSync(path).toString("base64"), name, type },
  );
}

/** The POST /api/projects the page sends, counted (Chromium does not show a file's multipart
 * body to the test: what was sent shows in the project made). */
function uploadsSent(page: Page): () => number {
  let n = 0;
  page.on("request", (r: Request) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/api/projects") n++;
  });
  return () => n;
}

/** The server's project ids (other specs' projects may share it). */
const projectIds = async (request: APIRequestContext) => (await ok<{ id: string }[]>(await request.get("/api/projects"))).map((p) => p.id);

/** The id of the one project added since the server held `before`, once the list shows it opened. */
async function addedProject(page: Page, request: APIRequestContext, before: string[]): Promise<string> {
  let added: string[] = [];
  await expect.poll(async () => (added = (await projectIds(request)).filter((id) => !before.includes(id))).length).toBe(1);
  await expect(page.locator(`[data-project-id="${added[0]}"] [data-testid=project-open]`)).toHaveAttribute("aria-current", "true");
  return added[0];
}

test("a zip of images is asked its frame rate, made a project at it, and shown frame by frame", async ({ page, request }) => {
  const zip = platesZip();
  const sent = uploadsSent(page);
  await page.goto("/");
  await page.evaluate(() => localStorage.removeItem("vidmatte.sequenceFps"));
  const dialog = page.getByRole("dialog", { name: "Frame rate of the image sequence" });

  await test.step("dropped: the dialog asks first (the images' own rate by default), 25 is chosen and sent", async () => {
    const before = await projectIds(request);
    await dropFile(page, zip, "plates.zip", "application/zip");
    await expect(dialog).toContainText('"plates.zip" holds numbered images');
    await expect(dialog.getByRole("radio", { name: /As the images state/ })).toBeChecked();
    await expect(dialog.getByRole("radio", { name: /As the images state/ })).toBeFocused();
    expect(sent()).toBe(0);
    await dialog.getByRole("radio", { name: "25", exact: true }).check();
    await dialog.getByRole("button", { name: "Upload" }).click();
    await expect(dialog).toHaveCount(0);
    const pid = await addedProject(page, request, before);
    expect(sent()).toBe(1);
    const project = await ok<{ video: { fps: number; frame_count: number; width: number } }>(await request.get(`/api/projects/${pid}`));
    expect(project.video).toMatchObject({ fps: 25, frame_count: FRAMES, width: 64 });
  });

  await test.step("the transport steps through its frames", async () => {
    await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
    await expect(page.getByTestId("seek")).toHaveAttribute("max", String(FRAMES - 1));
    await expect(page.getByTestId("image-number")).toHaveText("#1001"); // plate.1001.png
    await page.getByTestId("seek-last").click();
    await expect(page.getByTestId("frame-number")).toHaveText(String(FRAMES - 1));
    await expect(page.getByTestId("image-number")).toHaveText(`#${1001 + FRAMES - 1}`);
    await page.getByTestId("frame-number").click(); // go to an image by its own number
    await page.getByTestId("goto-input").fill("#1003");
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("frame-number")).toHaveText("2");
    await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  });

  await test.step("picked: 25 is remembered; Cancel uploads nothing", async () => {
    const projects = await page.getByTestId("project-item").count();
    await page.getByTestId("upload-input").setInputFiles(zip);
    await expect(dialog.getByRole("radio", { name: "25", exact: true })).toBeChecked();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toHaveCount(0);
    await page.waitForTimeout(500); // an upload would show its progress by now
    await expect(page.getByTestId("upload-progress")).toHaveCount(0);
    await expect(page.getByTestId("project-item")).toHaveCount(projects);
    expect(sent()).toBe(1);
  });

  await test.step("23.976 is exactly 24000/1001; a rate typed outside 1..240 is refused in the dialog", async () => {
    const before = await projectIds(request);
    await page.getByTestId("upload-input").setInputFiles(zip); // the same file again: the picker was freed
    await dialog.getByRole("textbox", { name: "Other rate (fps)" }).fill("500");
    await dialog.getByRole("button", { name: "Upload" }).click();
    await expect(dialog.getByRole("alert")).toHaveText("Enter a frame rate from 1 to 240 fps, e.g. 25 or 23.976.");
    expect(sent()).toBe(1);
    await dialog.getByRole("radio", { name: "23.976" }).check();
    await dialog.getByRole("button", { name: "Upload" }).click();
    const pid = await addedProject(page, request, before);
    const project = await ok<{ video: { fps: number; frame_count: number } }>(await request.get(`/api/projects/${pid}`));
    expect(project.video).toMatchObject({ fps: 24000 / 1001, frame_count: FRAMES });
    // So is "29.97" through the API (not 2997/100): the rate NTSC material runs at.
    const typed = await ok<{ id: string; video: { fps: number } }>(
      await request.post("/api/projects", { multipart: { file: { name: "plates.zip", mimeType: "application/zip", buffer: readFileSync(zip) }, fps: "29.97" } }),
    );
    expect(typed.video.fps).toBe(30000 / 1001);
  });

  await test.step("a folder picked is packed as one tar and made a project, numbered as its images", async () => {
    const before = await projectIds(request);
    await page.getByTestId("folder-input").setInputFiles(platesFolder(zip));
    await dialog.getByRole("radio", { name: /As the images state/ }).check();
    await dialog.getByRole("button", { name: "Upload" }).click();
    const pid = await addedProject(page, request, before);
    const project = await ok<{ name: string; filename: string; video: { fps: number; frame_count: number; first_number: number } }>(
      await request.get(`/api/projects/${pid}`),
    );
    expect(project).toMatchObject({ filename: "plates.tar", video: { fps: 24, frame_count: FRAMES, first_number: 1001 } });
    expect(project.name).toMatch(/^plate( \(\d+\))?$/); // the sequence's name ("plate (2)" after the zip's)
    expect(sent()).toBe(3);
  });

  await test.step("a video is sent without fps: taken (the server refuses a video an fps)", async () => {
    const before = await projectIds(request);
    await page.getByTestId("upload-input").setInputFiles(FIXTURE);
    await addedProject(page, request, before);
    await expect(dialog).toHaveCount(0);
    expect(sent()).toBe(4);
  });
});
