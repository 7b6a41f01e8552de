// The browser's Back and Forward go between the projects opened, as in any web app: Back from
// the second project left the app (projects replaced the page's history entry).
import { expect, test } from "@playwright/test";
import { FIXTURE } from "./video";

test("Back returns to the project opened before, at its frame; Forward comes back", async ({ page }) => {
  await page.goto("/");
  const open = async (before?: string) => {
    await page.getByTestId("upload-input").setInputFiles(FIXTURE);
    if (before) await expect(page.getByTestId("editor")).not.toHaveAttribute("data-project-id", before);
    await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
    return (await page.getByTestId("editor").getAttribute("data-project-id"))!;
  };
  const first = await open();
  await page.keyboard.press("End"); // the frame is kept in the entry, not as entries of its own
  await expect.poll(() => new URL(page.url()).hash).toMatch(/\?f=\d+$/);
  const atFrame = new URL(page.url()).hash;
  const second = await open(first);

  await page.goBack();
  await expect(page.getByTestId("editor")).toHaveAttribute("data-project-id", first);
  expect(new URL(page.url()).hash).toBe(atFrame);
  await page.goForward();
  await expect(page.getByTestId("editor")).toHaveAttribute("data-project-id", second);
  await page.goBack();
  await page.goBack();
  await expect(page.getByTestId("welcome")).toBeVisible(); // the page the app opened on
});
