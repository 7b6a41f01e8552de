// Redo brings back the last undone click, saved on the server like any edit; a new click after
// an undo leaves nothing to redo, as in any editor.
import { expect, test } from "@playwright/test";
import { clickVideo, disk, savedPoints, uploadFixture } from "./video";

test("undo then redo saves both points again; a new click after an undo disables Redo", async ({ page, request }) => {
  const pid = await uploadFixture(request, "redo");
  const saved = () => savedPoints(request, pid);
  await page.goto(`/#/p/${pid}`);
  const markers = page.getByTestId("point-marker");
  const redo = page.getByTestId("redo");

  await clickVideo(page, disk(0).x, disk(0).y);
  await clickVideo(page, 300, 20, { button: "right" });
  await expect(markers).toHaveCount(2);
  await expect(redo).toBeDisabled();

  await page.getByTestId("undo").click();
  await expect(markers).toHaveCount(1);
  await expect.poll(async () => (await saved()).map((p) => p.label)).toEqual(["positive"]);
  await expect(redo).toBeEnabled();
  await expect(redo).toHaveAttribute("title", "Redo (Ctrl+Shift+Z)");

  await redo.click();
  await expect(markers).toHaveCount(2);
  await expect(redo).toBeDisabled();
  await expect.poll(async () => (await saved()).map((p) => p.label)).toEqual(["positive", "negative"]);
  const [pos, neg] = await saved();
  expect(pos.frame).toBe(0);
  expect(Math.abs(pos.x - disk(0).x) + Math.abs(pos.y - disk(0).y)).toBeLessThan(2);
  expect(neg.frame).toBe(0);
  expect(Math.abs(neg.x - 300) + Math.abs(neg.y - 20)).toBeLessThan(2);

  await page.keyboard.press("Control+z");
  await expect(markers).toHaveCount(1);
  await expect(redo).toBeEnabled();
  await clickVideo(page, 250, 40);
  await expect(markers).toHaveCount(2);
  await expect(redo).toBeDisabled();
  await page.keyboard.press("Control+Shift+z"); // nothing to redo: the new click stays alone
  await expect.poll(async () => (await saved()).map((p) => [p.label, Math.round(p.x)])).toEqual([["positive", Math.round(disk(0).x)], ["positive", 250]]);
});
