// The whole editor against the real server: upload, prompts on two frames, preview, matting
// with live progress, result views, archive download, and a reload that loses nothing.
import { expect, test, type Page } from "@playwright/test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { clickVideo, disk, FIXTURE } from "./video";
import { zipEntryNames } from "./zip";

const SHOTS = join(import.meta.dirname, "screenshots");
/** The README's screenshots are tracked files: written only on request (`npm run screenshots`),
 * so a test run leaves the working tree as it found it. */
const WRITE_SHOTS = process.env.VIDMATTE_SCREENSHOTS === "1";

async function screenshot(page: Page, name: string): Promise<void> {
  if (WRITE_SHOTS) await page.screenshot({ path: join(SHOTS, name) });
}

/** Modification times of the tracked screenshots. */
const shotTimes = () => Object.fromEntries(readdirSync(SHOTS).map((name) => [name, statSync(join(SHOTS, name)).mtimeMs]));
const shotsBefore = shotTimes();

test.afterAll(() => {
  if (!WRITE_SHOTS) expect(shotTimes(), "a plain e2e run must not rewrite the README screenshots").toEqual(shotsBefore);
});

async function expectPreview(page: Page) {
  await expect(page.getByTestId("preview-layer")).toBeVisible();
  await expect(page.getByTestId("preview-spinner")).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId("preview-layer")).toHaveAttribute("src", /^blob:/);
}

test("upload, prompt two frames, matte a range, view and download the result, reload", async ({ page }, info) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  await test.step("upload a clip", async () => {
    await page.goto("/");
    await expect(page.getByTestId("welcome")).toBeVisible();
    await page.getByTestId("upload-input").setInputFiles(FIXTURE);
    const item = page.getByTestId("project-item").filter({ hasText: "36 frames" }).first();
    await expect(item).toBeVisible();
    await expect(item.getByTestId("project-open")).toHaveAttribute("aria-current", "true");
    await expect(page.getByTestId("upload-progress")).toHaveCount(0);
    await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
    await expect(page.getByTestId("frame-number")).toHaveText("0");
  });

  await test.step("positive and negative points on frame 0, with a preview", async () => {
    await clickVideo(page, disk(0).x, disk(0).y);
    await clickVideo(page, 300, 20, { button: "right" });
    const markers = page.getByTestId("point-marker");
    await expect(markers).toHaveCount(2);
    await expect(markers.nth(0)).toHaveAttribute("data-label", "positive");
    await expect(markers.nth(1)).toHaveAttribute("data-label", "negative");
    // coordinates are sent in video pixels whatever the canvas scale
    expect(Math.abs(Number(await markers.nth(0).getAttribute("data-x")) - disk(0).x)).toBeLessThan(1.5);
    await expectPreview(page);
  });

  await test.step("frame 20 by keyboard, points there too", async () => {
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("Shift+ArrowRight");
    await expect(page.getByTestId("frame-number")).toHaveText("20");
    await expect(page.getByTestId("timecode")).toHaveText("00:00:01:08");
    await expect(page.getByTestId("point-marker")).toHaveCount(0);
    await clickVideo(page, disk(20).x, disk(20).y);
    await clickVideo(page, 20, 160, { alt: true });
    await expect(page.getByTestId("point-marker")).toHaveCount(2);
    await expect(page.getByTestId("point-marker").nth(1)).toHaveAttribute("data-label", "negative");
    await expectPreview(page);
    await expect(page.getByTestId("seek-marker")).toHaveCount(2);
    await screenshot(page, "editor.png");
  });

  await test.step("undo and clicking a point remove it", async () => {
    await clickVideo(page, 250, 40);
    await expect(page.getByTestId("point-marker")).toHaveCount(3);
    await clickVideo(page, 250, 40); // on the point: removes it
    await expect(page.getByTestId("point-marker")).toHaveCount(2);
    await page.keyboard.press("Control+z"); // brings it back
    await expect(page.getByTestId("point-marker")).toHaveCount(3);
    await page.getByTestId("undo").click(); // undoes the first add
    await expect(page.getByTestId("point-marker")).toHaveCount(2);
  });

  let jobId = "";
  await test.step("matting dialog validates, then runs to 100%", async () => {
    await page.getByTestId("matting-open").click();
    await expect(page.getByTestId("matting-start")).toHaveValue("0");
    await expect(page.getByTestId("matting-end")).toHaveValue("20");
    await page.getByTestId("matting-end").fill("99");
    await expect(page.getByTestId("matting-validation")).toContainText("last frame is 35");
    await expect(page.getByTestId("matting-run")).toBeDisabled();
    await page.getByTestId("matting-start").fill("21");
    await page.getByTestId("matting-end").fill("30");
    await expect(page.getByTestId("matting-validation")).toContainText("No frame from 21 to 30");
    await page.getByTestId("matting-start").fill("0");
    await page.getByTestId("matting-end").fill("23");
    await page.locator('[data-testid=matting-format][data-format="rgba_png"]').check();
    await expect(page.getByTestId("matting-run")).toBeEnabled();
    await page.getByTestId("matting-run").click();
    await expect(page.getByTestId("job-progress")).toBeVisible();
    jobId = (await page.getByTestId("job-view").getAttribute("data-job-id"))!;
    await screenshot(page, "matting-progress.png");
    await expect(page.getByTestId("job-status")).toHaveAttribute("data-status", "done", { timeout: 240_000 });
    await expect(page.getByTestId("job-progress")).toHaveAttribute("data-percent", "100");
    await expect(page.getByTestId("job-progress")).toContainText("24 / 24 frames");
  });

  await test.step("download the archive and check its contents", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-link").click()]);
    const path = info.outputPath("result.zip");
    await download.saveAs(path);
    const names = zipEntryNames(readFileSync(path));
    const alpha = names.filter((n) => /^alpha\/\d+\.png$/.test(n));
    const rgba = names.filter((n) => /^rgba\/\d+\.png$/.test(n));
    expect(alpha).toHaveLength(24);
    expect(rgba).toHaveLength(24);
  });

  await test.step("result views", async () => {
    await page.getByTestId("job-view-result").click();
    await expect(page.getByTestId("matting-dialog")).toHaveCount(0);
    for (const mode of ["matte", "tint", "checker", "green", "side"]) {
      await page.getByTestId(`overlay-mode-${mode}`).click();
      await expect(page.getByTestId("overlay-mode")).toHaveAttribute("data-mode", mode);
      await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-mode", mode);
      if (mode === "checker" || mode === "side") await screenshot(page, `result-${mode}.png`);
    }
    await page.getByTestId("play").click();
    await expect(page.getByTestId("play")).toHaveAttribute("data-playing", "true");
    await page.waitForTimeout(800);
    await page.getByTestId("play").click();
    await expect(page.getByTestId("play")).toHaveAttribute("data-playing", "false");
    const f = Number(await page.getByTestId("frame-number").textContent());
    expect(f).toBeGreaterThanOrEqual(0);
    expect(f).toBeLessThanOrEqual(23); // playback stays inside the job's range
    await page.getByTestId("overlay-mode-off").click();
  });

  await test.step("reload: project, points and results come back from the server", async () => {
    await page.keyboard.press("Home");
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("Shift+ArrowRight");
    await expect(page.getByTestId("frame-number")).toHaveText("20");
    await page.waitForTimeout(400); // the frame is kept in the URL after a short pause
    await page.reload();
    await expect(page.getByTestId("project-item").filter({ hasText: "36 frames" }).first().getByTestId("project-open")).toHaveAttribute("aria-current", "true");
    await expect(page.getByTestId("frame-number")).toHaveText("20");
    await expect(page.getByTestId("point-marker")).toHaveCount(2);
    await page.keyboard.press("Home");
    await expect(page.getByTestId("point-marker")).toHaveCount(2);
    await expect(page.locator(`[data-testid=result-item][data-job-id="${jobId}"]`)).toHaveAttribute("data-status", "done");
    await expect(page.getByTestId("result-download")).toHaveAttribute("href", new RegExp(`/api/jobs/${jobId}/archive\\?formats=`));
  });

  await test.step("another browser downloads the formats chosen with the job (the server keeps them)", async () => {
    await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("vidmatte.formats")).forEach((k) => localStorage.removeItem(k)));
    await page.reload();
    await expect(page.getByTestId("result-download")).toHaveAttribute("href", new RegExp(`/api/jobs/${jobId}/archive\\?formats=alpha_png%2Crgba_png&`));
  });

  expect(errors).toEqual([]);
});

test("server errors appear as readable messages", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles({
    name: "broken.mp4",
    mimeType: "video/mp4",
    buffer: Buffer.from("this is not a video"),
  });
  const toast = page.getByTestId("error-message").first();
  await expect(toast).toBeVisible();
  await expect(toast).toContainText('Upload of "broken.mp4" failed');
  await expect(toast).not.toContainText("Request failed"); // the server's own words, not a status code
  await expect(page.getByTestId("project-item").filter({ hasText: "broken" })).toHaveCount(0);
});
