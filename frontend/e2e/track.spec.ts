// Track in the editor against the real server: track the clip from one click, scrub to a frame
// without points and see its tracked mask, correct a frame and re-track only that part, then
// run Matting, which takes the track's masks instead of running SAM2 again. Deleting the tracked
// object takes its mask off the frame.
import { expect, test, type Page } from "@playwright/test";
import { clickVideo, disk, FIXTURE, W } from "./video";


async function seek(page: Page, frame: number) {
  await page.getByTestId("seek").fill(String(frame));
  await expect(page.getByTestId("frame-number")).toHaveText(String(frame));
}

test("track the clip, see the mask on a frame without points, re-track a correction, matte on the track", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  const pid = await page.getByTestId("editor").getAttribute("data-project-id");

  await test.step("one click on frame 0, then Track", async () => {
    await expect(page.getByTestId("track-start")).toBeDisabled(); // nothing to track yet
    await clickVideo(page, disk(0).x, disk(0).y);
    await expect(page.getByTestId("track-start")).toBeEnabled();
    const started = page.waitForResponse((r) => r.url().endsWith(`/api/projects/${pid}/track`) && r.request().method() === "POST");
    await page.getByTestId("track-start").click();
    const answer = await (await started).json();
    expect(answer.run).toEqual({ start: 0, end: 35, object_ids: answer.object_ids });
    await expect(page.getByTestId("track-status")).toHaveText("tracked 0–35", { timeout: 120_000 });
  });

  await test.step("scrub to frame 20 (no points): its tracked mask is shown", async () => {
    await seek(page, 20);
    const layer = page.getByTestId("preview-layer");
    await expect(layer).toBeVisible();
    await expect(layer).toHaveAttribute("src", new RegExp(`/api/projects/${pid}/track/masks/20\\?v=\\d+$`));
    // The mask is small (at most 256 a side, the video's aspect) and stretched over the frame.
    await expect.poll(() => layer.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(256);
    const scaleX = Number(await page.getByTestId("frame-canvas").getAttribute("data-scale-x"));
    expect((await layer.boundingBox())!.width).toBeCloseTo(W * scaleX, 0);
    await seek(page, 27);
    await expect(layer).toHaveAttribute("src", /\/track\/masks\/27\?/);
  });

  await test.step("a correction on frame 27 makes the track stale; Track re-runs only from there", async () => {
    await clickVideo(page, disk(27).x, disk(27).y);
    await expect(page.getByTestId("track-stale")).toBeVisible();
    const started = page.waitForResponse((r) => r.url().endsWith(`/api/projects/${pid}/track`) && r.request().method() === "POST");
    await page.getByTestId("track-start").click();
    const answer = await (await started).json();
    expect(answer.run.start).toBe(27);
    expect(answer.run.end).toBe(35);
    expect(answer.frames_total).toBe(9);
    await expect(page.getByTestId("track-status")).toHaveText("tracked 0–35", { timeout: 120_000 });
    await expect(page.getByTestId("track-stale")).toHaveCount(0);
  });

  await test.step("Matting on the prompted range reuses the track: no second SAM2 pass", async () => {
    await page.getByTestId("matting-open").click();
    await expect(page.getByTestId("matting-start")).toHaveValue("0");
    await expect(page.getByTestId("matting-end")).toHaveValue("27");
    await page.getByTestId("matting-run").click();
    await expect(page.getByTestId("job-progress")).toBeVisible();
    const jobId = (await page.getByTestId("job-view").getAttribute("data-job-id"))!;
    await expect(page.getByTestId("job-status")).toHaveAttribute("data-status", "done", { timeout: 240_000 });
    const job = await (await page.request.get(`/api/jobs/${jobId}`)).json();
    expect(job.used_track).toBe(true);
  });

  await test.step("In at 20 (I), Out at 30 (O): Track runs over In..Out and Matting starts from it", async () => {
    await page.keyboard.press("Escape"); // the finished job's dialog
    await expect(page.getByTestId("matting-dialog")).toHaveCount(0);
    await seek(page, 20);
    await page.keyboard.press("i");
    await page.keyboard.press("Shift+ArrowRight");
    await expect(page.getByTestId("frame-number")).toHaveText("30");
    await page.keyboard.press("o");
    await expect(page.getByTestId("inout-readout")).toContainText("In 20 – Out 30 (11 frames)");
    await expect(page.getByTestId("seek-inout")).toHaveAttribute("data-start", "20");
    await expect(page.getByTestId("track-start")).toHaveAttribute("title", /frames 20–30/);
    await page.getByTestId("track-start").click();
    await expect(page.getByTestId("track-status")).toHaveText("tracked 20–30", { timeout: 120_000 });
    const t = await (await page.request.get(`/api/projects/${pid}/track`)).json();
    expect([t.start, t.end, t.status]).toEqual([20, 30, "done"]);
    await page.getByTestId("matting-open").click();
    await expect(page.getByTestId("matting-start")).toHaveValue("20");
    await expect(page.getByTestId("matting-end")).toHaveValue("30");
  });

  expect(errors).toEqual([]);
});

test("deleting the tracked object takes its mask off the frame at once, without a failed request", async ({ page }) => {
  const failed: string[] = [];
  page.on("response", (r) => r.url().includes("/track/masks/") && !r.ok() && failed.push(`${r.status()} ${r.url()}`));
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await clickVideo(page, disk(0).x, disk(0).y);
  await page.getByTestId("track-start").click();
  await expect(page.getByTestId("track-status")).toHaveText("tracked 0–35", { timeout: 120_000 });
  await seek(page, 20);
  const layer = page.getByTestId("preview-layer");
  await expect(layer).toBeVisible();

  await page.getByTestId("object-delete").click();
  await page.getByTestId("confirm-ok").click();
  await expect(layer).toHaveCount(0);
  await seek(page, 21);
  await expect(layer).toHaveCount(0);
  expect(failed).toEqual([]);
});
