// Points by keyboard, in Chromium against the real server: Tab to the frame shows a crosshair at
// its centre, arrows move it (10 frame pixels, Shift 1) without stepping frames, Enter adds a
// positive point there and Shift+Enter a negative one, Enter on a point removes it; all saved and
// undone like clicks. Escape leaves the frame, and the arrows step frames again. A polite live
// region says each move and each point placed or removed, with its object and the frame's count.
import { expect, test, type Page } from "@playwright/test";
import { savedPoints, uploadFixture } from "./video";

async function press(page: Page, key: string, times: number) {
  for (let i = 0; i < times; i++) await page.keyboard.press(key);
}

test("arrows move the crosshair, Enter and Shift+Enter place points the server keeps, Ctrl+Z undoes", async ({ page, request }) => {
  const pid = await uploadFixture(request, "keyboard points");
  const saved = () => savedPoints(request, pid);
  await page.goto(`/#/p/${pid}`);
  const canvas = page.getByTestId("frame-canvas");
  await expect(canvas).toHaveAttribute("data-loaded", "true");
  const stage = page.getByTestId("stage");
  const crosshair = page.getByTestId("crosshair");
  const markers = page.getByTestId("point-marker");
  const said = page.getByRole("status").and(page.getByTestId("stage-announcement"));
  await expect(crosshair).toHaveCount(0);

  await page.getByTestId("help-open").focus();
  await page.keyboard.press("Tab");
  await expect(stage).toBeFocused();
  await expect(crosshair).toHaveAttribute("data-x", "160"); // the centre of 320×180
  await expect(crosshair).toHaveAttribute("data-y", "90");

  await press(page, "ArrowLeft", 6); // 100
  await press(page, "Shift+ArrowLeft", 4); // 96
  await expect(crosshair).toHaveAttribute("data-x", "96");
  await expect(said).toHaveText("Crosshair 96, 90");
  await expect(canvas).toHaveAttribute("data-frame", "0"); // the arrows did not step
  await page.keyboard.press("Enter");
  await expect(markers).toHaveCount(1);
  await expect(said).toHaveText("Positive point for Object 1 at 96, 90 — 1 positive, 0 negative on this frame");

  await press(page, "ArrowRight", 10); // 196
  await press(page, "ArrowUp", 3); // 60
  await expect(said).toHaveText("Crosshair 196, 60");
  await page.keyboard.press("Shift+Enter");
  await expect(markers).toHaveCount(2);
  await expect(said).toHaveText("Negative point for Object 1 at 196, 60 — 1 positive, 1 negative on this frame");
  const expected = [
    { frame: 0, x: 96, y: 90, label: "positive" },
    { frame: 0, x: 196, y: 60, label: "negative" },
  ];
  await expect.poll(saved).toEqual(expected);

  await page.keyboard.press("Control+z");
  await expect(markers).toHaveCount(1);
  await expect.poll(saved).toEqual(expected.slice(0, 1));

  await press(page, "ArrowLeft", 10);
  await press(page, "ArrowDown", 3);
  await page.keyboard.press("Enter"); // on the positive point: removes it, as a click does
  await expect(markers).toHaveCount(0);
  await expect(said).toHaveText("Removed positive point of Object 1 at 96, 90 — no points on this frame");
  await expect.poll(saved).toEqual([]);

  await page.keyboard.press("Escape");
  await expect(stage).not.toBeFocused();
  await expect(crosshair).toHaveCount(0);
  await page.keyboard.press("ArrowRight");
  await expect(canvas).toHaveAttribute("data-frame", "1");
});
