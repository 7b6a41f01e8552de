// A failed or interrupted track's message in the toolbar of a 1024 px window: the server's text
// can be long (a CUDA error, a path), and it wraps inside the editor column, whole, instead of
// widening the toolbar past the window.
import { expect, test, type Page } from "@playwright/test";
import { uploadFixture } from "./video";

const ERROR =
  "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total capacity; 5.12 GiB already allocated; 1.10 GiB free; " +
  "5.30 GiB reserved in total by PyTorch) while writing /var/lib/vidmatte/projects/0123456789abcdef0123456789abcdef/track/masks-000123.npz";

/** The project's track answered by the server as one that ended with `error`. */
async function showEndedTrack(page: Page, pid: string, status: "failed" | "interrupted") {
  const track = {
    project_id: pid,
    status,
    start: 0,
    end: 35,
    object_ids: [],
    mask_width: 256,
    mask_height: 144,
    run: { start: 0, end: 35, object_ids: [] },
    frames_done: 4,
    frames_total: 36,
    fps: null,
    eta_seconds: null,
    error: ERROR,
    stale: false,
    tracked: [[0, 3]],
    flags: [],
  };
  await page.route(`**/api/projects/${pid}`, async (route) => route.fulfill({ json: { ...(await (await route.fetch()).json()), has_track: true } }));
  await page.route(`**/api/projects/${pid}/track`, (route) => route.fulfill({ json: track }));
}

for (const status of ["failed", "interrupted"] as const) {
  test(`a long ${status}-track message at 1024 px stays inside the toolbar, all of it shown`, async ({ page, request }, info) => {
    await page.setViewportSize({ width: 1024, height: 768 });
    const pid = await uploadFixture(request, `long ${status} track message`);
    await showEndedTrack(page, pid, status);
    await page.goto(`/#/p/${pid}`);
    const message = page.getByTestId("track-status");
    await expect(message).toHaveText(`${status}: ${ERROR}`);
    await page.screenshot({ path: info.outputPath(`toolbar-${status}.png`) });
    const toolbar = page.locator(".toolbar");
    const widths = await toolbar.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    const bar = (await toolbar.boundingBox())!;
    const box = (await message.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(bar.x);
    expect(box.x + box.width).toBeLessThanOrEqual(bar.x + bar.width);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0);
  });
}
