// Box prompts in Chromium against the real server: a left drag draws the object's box (saved as
// two corners labelled "box") and the mask preview follows; a click inside stays a point; the
// box's × removes it and Ctrl+Z brings it back, as for a point.
import { expect, test } from "@playwright/test";
import { clickVideo, disk, pageAt, savedPoints, uploadFixture } from "./video";

test("drag a box around the disk: saved, previewed, corrected by a click, removed and undone", async ({ page, request }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const pid = await uploadFixture(request, "box");
  const saved = () => savedPoints(request, pid);
  await page.goto(`/#/p/${pid}`);
  const canvas = page.getByTestId("frame-canvas");
  await expect(canvas).toHaveAttribute("data-loaded", "true");
  const c = disk(0);

  await test.step("a left drag from one corner to the other draws the box and previews its mask", async () => {
    const from = await pageAt(page, c.x + 55, c.y + 55);
    const to = await pageAt(page, c.x - 55, c.y - 55);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
    await expect(page.getByTestId("box-drag")).toBeVisible();
    await page.mouse.move(to.x, to.y, { steps: 4 });
    await page.mouse.up();
    await expect(page.getByTestId("box-marker")).toHaveCount(1);
    await expect(page.getByTestId("point-marker")).toHaveCount(0); // the drag's click added none
    await expect.poll(saved).toHaveLength(2);
    const corners = await saved();
    expect(corners.map((p) => [p.frame, p.label])).toEqual([
      [0, "box"],
      [0, "box"],
    ]);
    for (const [p, want] of [
      [corners[0], { x: c.x + 55, y: c.y + 55 }],
      [corners[1], { x: c.x - 55, y: c.y - 55 }],
    ] as const) {
      expect(Math.abs(p.x - want.x)).toBeLessThanOrEqual(1.5);
      expect(Math.abs(p.y - want.y)).toBeLessThanOrEqual(1.5);
    }
    await expect(page.getByTestId("preview-layer")).toBeVisible();
    await expect(page.getByTestId("preview-spinner")).toHaveCount(0, { timeout: 60_000 });
    await expect(page.getByTestId("preview-layer")).toHaveAttribute("src", /^blob:/);
    await expect(page.getByTestId("frame-summary")).toHaveText("0 positive, 0 negative, 1 box on this frame");
  });

  await test.step("a click inside the box is a point beside it", async () => {
    await clickVideo(page, c.x, c.y);
    await expect(page.getByTestId("point-marker")).toHaveCount(1);
    await expect.poll(async () => (await saved()).map((p) => p.label)).toEqual(["box", "box", "positive"]);
  });

  await test.step("the box's × removes it, the click stays; Ctrl+Z brings it back", async () => {
    await page.getByTestId("box-remove").click();
    await expect(page.getByTestId("box-marker")).toHaveCount(0);
    await expect.poll(async () => (await saved()).map((p) => p.label)).toEqual(["positive"]);
    await page.keyboard.press("Control+z");
    await expect(page.getByTestId("box-marker")).toHaveCount(1);
    await expect.poll(async () => (await saved()).map((p) => p.label)).toEqual(["box", "box", "positive"]);
  });
  expect(errors).toEqual([]);
});
