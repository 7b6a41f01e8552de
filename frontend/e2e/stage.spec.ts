// The frame stage against the real server: a frame that cannot be loaded is never shown as
// another frame's picture, and clicks wait for the right picture.
import { expect, test } from "@playwright/test";
import { clickVideo, disk, FIXTURE, videoPosition } from "./video";

test("a frame the server fails to give is not shown as the frame before, and refuses clicks until it loads", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  const canvas = page.getByTestId("frame-canvas");
  await expect(canvas).toHaveAttribute("data-loaded", "true");
  const pid = (await page.getByTestId("editor").getAttribute("data-project-id"))!;
  const frames = new RegExp(`/api/projects/${pid}/frames/(3[0-5])(\\?|$)`);
  await page.route(frames, (route) => route.fulfill({ status: 500, contentType: "application/json", body: JSON.stringify({ detail: "simulated decode failure" }) }));

  await test.step("the last frame fails: no picture, a note, no click taken", async () => {
    await page.keyboard.press("End");
    await expect(page.getByTestId("frame-number")).toHaveText("35");
    await expect(page.getByTestId("error-message").filter({ hasText: "simulated decode failure" })).toBeVisible();
    await expect(canvas).toHaveAttribute("data-loaded", "false");
    await expect(page.getByTestId("frame-not-loaded")).toHaveText("Frame 35 could not be loaded");
    await canvas.click({ position: await videoPosition(page, disk(35).x, disk(35).y) });
    await expect(page.getByTestId("point-marker")).toHaveCount(0);
    await expect(page.getByTestId("frame-summary")).toHaveText("no points on this frame");
    await expect(page.getByTestId("object-item")).toHaveCount(0); // a click would have made one
  });

  await test.step("once the frame loads, a click there is a point of that frame", async () => {
    await page.unroute(frames);
    await page.keyboard.press("ArrowLeft");
    await expect(page.getByTestId("frame-number")).toHaveText("34");
    await expect(page.getByTestId("frame-not-loaded")).toHaveCount(0);
    await clickVideo(page, disk(34).x, disk(34).y);
    await expect(page.getByTestId("point-marker")).toHaveCount(1);
    await expect(page.getByTestId("frame-summary")).toContainText("1 positive");
  });
});
