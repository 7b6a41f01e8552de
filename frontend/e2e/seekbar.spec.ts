// The seek bar in the real browser: a frame's marker and a track's flag sit where the slider's
// thumb stands on that frame (a click on one lands on its frame), a flag's reason shows on
// hover, and the keyboard reaches flagged frames and reads what to check there.
import { expect, test, type Page } from "@playwright/test";
import { clickVideo, disk, FIXTURE } from "./video";

const LAST = 35; // the fixture's last frame

/** The slider's frame after a click at page x `x`, halfway down the slider (under no flag). */
async function frameAt(page: Page, x: number): Promise<number> {
  const slider = page.getByTestId("seek");
  const box = (await slider.boundingBox())!;
  await page.mouse.click(x, box.y + box.height / 2);
  return Number(await slider.inputValue());
}

/** The page x where clicks on the slider turn from frame `f` to `f + 1` (to 1/20 px). */
async function boundary(page: Page, f: number): Promise<number> {
  const box = (await page.getByTestId("seek").boundingBox())!;
  let [lo, hi] = [box.x, box.x + box.width];
  while (hi - lo > 0.05) {
    const mid = (lo + hi) / 2;
    if ((await frameAt(page, mid)) > f) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

const centreX = async (page: Page, testid: string, frame: number) => {
  const b = (await page.locator(`[data-testid=${testid}][data-frame="${frame}"]`).boundingBox())!;
  return b.x + b.width / 2;
};

test("markers and flags sit on their frames' thumb positions; flags show their reason, take clicks and keys", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  const pid = (await page.getByTestId("editor").getAttribute("data-project-id"))!;

  await test.step("points on the first and last frames, then a track of the clip", async () => {
    await clickVideo(page, disk(0).x, disk(0).y);
    await page.keyboard.press("End");
    await expect(page.getByTestId("frame-number")).toHaveText(String(LAST));
    await clickVideo(page, disk(LAST).x, disk(LAST).y);
    await expect(page.getByTestId("seek-marker")).toHaveCount(2);
    await page.getByTestId("track-start").click();
    await expect(page.getByTestId("track-status")).toHaveText(`tracked 0–${LAST}`, { timeout: 120_000 });
  });

  await test.step("the track, read again, flags frames 17 and 30 (the random test model flags what it likes)", async () => {
    await page.route(`**/api/projects/${pid}/track`, async (route) => {
      if (route.request().method() !== "GET") return route.continue();
      const res = await route.fetch();
      const track = await res.json();
      track.flags = [
        { frame: 17, object_id: track.object_ids[0], reason: "lost" },
        { frame: 30, object_id: track.object_ids[0], reason: "moved" },
      ];
      await route.fulfill({ response: res, json: track });
    });
    await page.reload();
    await expect(page.getByTestId("seek-flag")).toHaveCount(2);
  });

  await test.step("each marker and flag is centred where the thumb stands on its frame", async () => {
    // Clicks turn from one frame to the next halfway between two thumb positions.
    const first = await boundary(page, 0);
    const step = ((await boundary(page, LAST - 1)) - first) / (LAST - 1);
    const thumbX = (f: number) => first + (f - 0.5) * step;
    for (const f of [0, LAST]) expect(Math.abs((await centreX(page, "seek-marker", f)) - thumbX(f)), `marker ${f}`).toBeLessThan(1);
    for (const f of [17, 30]) expect(Math.abs((await centreX(page, "seek-flag", f)) - thumbX(f)), `flag ${f}`).toBeLessThan(1);
  });

  await test.step("a flag is under the pointer (its reason shows on hover) and a click on it goes to its frame", async () => {
    const flag = page.locator('[data-testid=seek-flag][data-frame="17"]');
    await expect(flag).toHaveAttribute("title", "Check frame 17: Object 1: lost");
    const b = (await flag.boundingBox())!;
    const under = await page.evaluate(([x, y]) => (document.elementFromPoint(x, y) as HTMLElement | null)?.dataset.testid, [b.x + b.width / 2, b.y + b.height / 2]);
    expect(under).toBe("seek-flag");
    await page.keyboard.press("Home");
    await flag.click();
    await expect(page.getByTestId("frame-number")).toHaveText("17");
  });

  await test.step("{ and } go to the flagged frames, and the slider says what to check there", async () => {
    const slider = page.getByTestId("seek");
    await page.keyboard.press("Home");
    await expect(slider).toHaveAttribute("aria-valuetext", "Frame 0");
    await page.keyboard.press("}");
    await expect(page.getByTestId("frame-number")).toHaveText("17");
    await expect(slider).toHaveAttribute("aria-valuetext", "Frame 17 — check Object 1: lost");
    await page.keyboard.press("}");
    await expect(page.getByTestId("frame-number")).toHaveText("30");
    await expect(slider).toHaveAttribute("aria-valuetext", "Frame 30 — check Object 1: moved");
    await page.keyboard.press("{");
    await expect(page.getByTestId("frame-number")).toHaveText("17");
    await page.keyboard.press("?");
    await expect(page.getByTestId("shortcuts-help")).toContainText("previous / next frame to check");
  });
});
