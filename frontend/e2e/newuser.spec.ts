// What a new user runs into first, in Debian's Chromium against the real server: a video
// dropped anywhere is uploaded (and never opens in the tab), the keyboard shows where it is
// and stays inside open dialogs, and Enter in a confirmation does not delete.
import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const FIXTURE = join(import.meta.dirname, "fixtures", "disk.mp4"); // 320×180, 36 frames, 12 fps

/** Drag the fixture over `selector` and drop it there, as the OS would. */
async function dropVideo(page: Page, selector: string, name: string): Promise<void> {
  const data = readFileSync(FIXTURE).toString("base64");
  const transfer = await page.evaluateHandle(
    ({ data, name }) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: "video/mp4" }));
      return dt;
    },
    { data, name },
  );
  await page.dispatchEvent(selector, "dragenter", { dataTransfer: transfer });
  await page.dispatchEvent(selector, "dragover", { dataTransfer: transfer });
  await expect(page.getByTestId("drop-overlay")).toBeVisible();
  await page.dispatchEvent(selector, "drop", { dataTransfer: transfer });
}

/** The focused element's own ring, or that of the control that wraps it (a hidden file input). */
const focusRing = (page: Page) =>
  page.evaluate(() => {
    let el = document.activeElement as HTMLElement | null;
    for (let i = 0; el && i < 2; i++, el = el.parentElement) {
      const s = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 1 && box.width > 4 && box.height > 4) {
        return { tag: el.tagName, text: el.textContent?.trim(), width: parseFloat(s.outlineWidth) };
      }
    }
    return null;
  });

const focusInside = (page: Page, testid: string) =>
  page.evaluate((id) => !!document.querySelector(`[data-testid="${id}"]`)?.contains(document.activeElement), testid);

test("a video dropped on the welcome card or on the editor's frame is uploaded, and the tab stays", async ({ page }) => {
  await page.goto("/");
  const url = page.url();
  await dropVideo(page, "[data-testid=welcome]", "dropped-on-welcome.mp4");
  const first = page.getByTestId("project-item").filter({ hasText: "dropped-on-welcome" });
  await expect(first).toHaveAttribute("aria-current", "true");
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await expect(page.getByTestId("drop-overlay")).toBeHidden();

  await dropVideo(page, "[data-testid=frame-canvas]", "dropped-on-frame.mp4");
  await expect(page.getByTestId("project-item").filter({ hasText: "dropped-on-frame" })).toHaveAttribute("aria-current", "true");
  expect(new URL(page.url()).origin + new URL(page.url()).pathname).toBe(new URL(url).origin + new URL(url).pathname);
  await expect(page.getByTestId("editor")).toBeVisible();
});

test("keyboard: a visible ring on the first Tab stop, focus kept in dialogs, Enter in a confirmation keeps the project", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await page.reload();
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");

  await test.step("the first Tab stop shows a ring", async () => {
    await page.keyboard.press("Tab");
    const ring = await focusRing(page);
    expect(ring, "the focused control (or its label) draws an outline").not.toBeNull();
    expect(ring!.width).toBeGreaterThanOrEqual(2);
  });

  await test.step("Help keeps focus inside", async () => {
    await page.locator("body").click({ position: { x: 5, y: 300 } }); // out of any field
    await page.keyboard.press("?");
    await expect(page.getByTestId("shortcuts-help")).toBeVisible();
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press(i % 2 ? "Shift+Tab" : "Tab");
      expect(await focusInside(page, "shortcuts-help")).toBe(true);
    }
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("shortcuts-help")).toHaveCount(0);
  });

  await test.step("Matting keeps focus inside, through every control and back", async () => {
    await page.getByTestId("matting-open").click();
    await expect(page.getByTestId("matting-dialog")).toBeVisible();
    expect(await focusInside(page, "matting-dialog")).toBe(true);
    const stops = await page.locator("[data-testid=matting-dialog]").evaluate(
      (el) => el.querySelectorAll("a[href],button:not([disabled]),input:not([disabled]),select,textarea,[tabindex]:not([tabindex='-1'])").length,
    );
    for (let i = 0; i < stops + 2; i++) {
      await page.keyboard.press("Tab");
      expect(await focusInside(page, "matting-dialog")).toBe(true);
    }
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press("Shift+Tab");
      expect(await focusInside(page, "matting-dialog")).toBe(true);
    }
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("matting-dialog")).toHaveCount(0);
  });

  await test.step("a delete confirmation starts on Cancel: Enter keeps the project", async () => {
    const item = page.locator("[data-testid=project-item][aria-current=true]");
    const pid = await item.getAttribute("data-project-id");
    await item.hover();
    await item.getByTestId("project-delete").click();
    await expect(page.getByTestId("confirm-dialog")).toBeVisible();
    await expect(page.getByTestId("confirm-cancel")).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("confirm-dialog")).toHaveCount(0);
    await expect(page.locator(`[data-testid=project-item][data-project-id="${pid}"]`)).toHaveCount(1);
    expect((await page.request.get(`/api/projects/${pid}`)).status()).toBe(200);
  });
});
