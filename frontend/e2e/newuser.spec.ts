// What a new user runs into first, in Debian's Chromium against the real server: a video
// dropped anywhere is uploaded (and never opens in the tab), the keyboard shows where it is
// and stays inside open dialogs, and Enter in a confirmation does not delete.
import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { FIXTURE } from "./video";


/** Drag over `selector` and drop there what `make` puts in a DataTransfer, as the OS would
 * (dragenter, dragover, drop); says which of them the app took over (preventDefault: the
 * browser then neither opens the file nor follows a link). */
async function drag(page: Page, selector: string, item: { file?: { data: string; name: string }; link?: string }): Promise<boolean[]> {
  return page.evaluate(
    ({ selector, item }) => {
      const dt = new DataTransfer();
      if (item.file) {
        const bytes = Uint8Array.from(atob(item.file.data), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], item.file.name, { type: "video/mp4" }));
      }
      if (item.link) dt.setData("text/uri-list", item.link);
      const target = document.querySelector(selector)!;
      return ["dragenter", "dragover", "drop"].map((type) => {
        const ev = new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
        target.dispatchEvent(ev);
        return ev.defaultPrevented;
      });
    },
    { selector, item },
  );
}

const fixture = (name: string) => ({ file: { data: readFileSync(FIXTURE).toString("base64"), name } });

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

test("a video dropped on the welcome card or on the editor's frame is uploaded, and no drop leaves the app", async ({ page }) => {
  await page.goto("/");
  const [, overWelcome, onWelcome] = await drag(page, "[data-testid=welcome]", fixture("dropped-on-welcome.mp4"));
  expect([overWelcome, onWelcome]).toEqual([true, true]);
  const first = page.getByTestId("project-item").filter({ hasText: "dropped-on-welcome" });
  await expect(first.getByTestId("project-open")).toHaveAttribute("aria-current", "true");
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await expect(page.getByTestId("drop-overlay")).toBeHidden();

  const [, overFrame, onFrame] = await drag(page, "[data-testid=frame-canvas]", fixture("dropped-on-frame.mp4"));
  expect([overFrame, onFrame]).toEqual([true, true]);
  await expect(page.getByTestId("project-item").filter({ hasText: "dropped-on-frame" }).getByTestId("project-open")).toHaveAttribute("aria-current", "true");
  await expect(page.getByTestId("upload-progress")).toHaveCount(0);
  const projects = await page.getByTestId("project-item").count();

  // A link dragged in from another page is not followed either (and uploads nothing).
  const [, overLink, onLink] = await drag(page, "[data-testid=frame-canvas]", { link: "https://example.org/" });
  expect([overLink, onLink]).toEqual([true, true]);
  await expect(page.getByTestId("editor")).toBeVisible();
  await page.waitForTimeout(500); // an upload would show its progress by now
  await expect(page.getByTestId("upload-progress")).toHaveCount(0);
  await expect(page.getByTestId("project-item")).toHaveCount(projects);
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
    const item = page.locator("[data-testid=project-item]:has([data-testid=project-open][aria-current=true])");
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
