// The editor and the start page fit the window at any size down to 320×240: the page itself
// never scrolls (body hides its overflow, so what spilled past the window's edge could not be
// reached); a column or panel scrolls inside it instead.
import { expect, test, type Page } from "@playwright/test";
import { uploadFixture } from "./video";

const SIZES = [
  { width: 320, height: 240 }, // the panels stack (under 820 px wide) and scroll together
  { width: 400, height: 300 },
  { width: 900, height: 240 }, // three columns, too short for the editor's column
  { width: 1440, height: 240 }, // too short for the start page's card
  { width: 1440, height: 860 },
] as const;

/** How far the page's content reaches past the window, down and across (0 when it fits). */
function pageOverflow(page: Page): Promise<{ down: number; across: number }> {
  return page.evaluate(() => {
    const root = document.scrollingElement!;
    return { down: root.scrollHeight - root.clientHeight, across: root.scrollWidth - root.clientWidth };
  });
}

for (const size of SIZES) {
  test(`at ${size.width}×${size.height} the editor and the start page fit the window`, async ({ page, request }) => {
    const pid = await uploadFixture(request, "small window");
    await page.setViewportSize(size);
    await page.goto(`/#/p/${pid}`);
    await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
    expect(await pageOverflow(page), "the editor").toEqual({ down: 0, across: 0 });
    await page.goto("/#/");
    await expect(page.getByTestId("welcome")).toBeVisible();
    expect(await pageOverflow(page), "the start page").toEqual({ down: 0, across: 0 });
  });
}
