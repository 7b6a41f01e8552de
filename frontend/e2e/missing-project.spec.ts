// A link to a project the server does not have (deleted, or a wrong id) says so instead of a
// welcome card that looks as if nothing was asked for; the project list stays usable.
import { expect, test } from "@playwright/test";
import { FIXTURE, uploadFixture } from "./video";


test("a deleted project's URL and an unknown id say the project no longer exists; the list still opens projects", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  const pid = (await page.getByTestId("editor").getAttribute("data-project-id"))!;
  expect(new URL(page.url()).hash).toBe(`#/p/${pid}`);

  await test.step("the project is deleted in another tab; its link then says it is gone", async () => {
    const other = await page.context().newPage();
    await other.goto("/");
    const item = other.locator(`[data-testid=project-item][data-project-id="${pid}"]`);
    await item.hover();
    await item.getByTestId("project-delete").click();
    await other.getByTestId("confirm-ok").click();
    await expect(item).toHaveCount(0);
    await other.close();

    await page.reload(); // the same URL opened afresh
    const missing = page.getByTestId("project-missing");
    await expect(missing).toContainText("This project no longer exists");
    await expect(missing).toContainText("It was deleted, or the link is wrong.");
    await expect(page.getByTestId("welcome")).toHaveCount(0);
    await expect(page.getByTestId("editor")).toHaveCount(0);
  });

  await test.step("an id that never existed says the same; the button leads to the start page", async () => {
    await page.goto("/#/p/p_000000000000");
    await expect(page.getByTestId("project-missing")).toContainText("This project no longer exists");
    await page.getByTestId("project-missing-back").click();
    await expect(page.getByTestId("welcome")).toBeVisible();
    expect(new URL(page.url()).hash).toBe("#/");
  });

  await test.step("the project list still opens a project from the message", async () => {
    await page.goto("/#/p/p_000000000000");
    await expect(page.getByTestId("project-missing")).toBeVisible();
    await page.getByTestId("upload-input").setInputFiles(FIXTURE);
    await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
    await expect(page.getByTestId("project-missing")).toHaveCount(0);
  });

  expect(errors).toEqual([]);
});

test("an open editor whose project another tab deletes says so at the next request, instead of keeping a click it cannot save", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  const pid = (await page.getByTestId("editor").getAttribute("data-project-id"))!;
  // Deleted through the API, as another tab or a script would: this page gets no event of it.
  const gone = await page.request.delete(`/api/projects/${pid}`);
  expect(gone.status()).toBe(204);
  const canvas = page.getByTestId("frame-canvas");
  const box = (await canvas.boundingBox())!;
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await expect(page.getByTestId("project-missing")).toContainText("This project no longer exists");
  await expect(page.getByTestId("editor")).toHaveCount(0);
});

test("a link to a project made after the page loaded (another tab, a script) opens it", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("welcome")).toBeVisible();
  const pid = await uploadFixture(page.request, "made elsewhere");
  await page.evaluate((id) => (window.location.hash = `#/p/${id}`), pid);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await expect(page.getByTestId("project-missing")).toHaveCount(0);
  await expect(page.getByTestId("project-title")).toContainText("made elsewhere");
});

test("a link whose id is cut off mid-character says the project does not exist, in a new tab and in an open editor", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const bad = "#/p/%E0%A4%A"; // not valid percent-encoding: decoding it throws

  await page.goto(`/${bad}`);
  await expect(page.getByTestId("project-missing")).toContainText("This project no longer exists");

  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await page.evaluate((h) => (window.location.hash = h), bad); // typed into the address bar
  await expect(page.getByTestId("project-missing")).toContainText("This project no longer exists");
  await expect(page.getByTestId("editor")).toHaveCount(0);
  expect(errors).toEqual([]);
});
