// The server cannot be reached: unlike a point (held and sent when it is back), a new object,
// a colour change and a delete are not done, and the editor says so instead of dropping them.
import { expect, test } from "@playwright/test";
import { clickVideo, ok, uploadFixture } from "./video";

interface Obj {
  id: number;
  name: string;
  color: string;
}

test("with the server unreachable, N, a colour change and a delete each say they were not done", async ({ page, request }) => {
  const pid = await uploadFixture(request, "offline objects");
  await page.goto(`/#/p/${pid}`);
  // Every request answered first: one answered once offline would say the server is back.
  const previewed = page.waitForResponse((r) => r.url().includes("/preview") && r.ok());
  await clickVideo(page, 96, 90); // makes "Object 1"
  await previewed;
  await expect(page.getByTestId("point-marker")).toHaveAttribute("data-unsaved", "false");
  await expect(page.getByText("No results yet.")).toBeVisible();
  const [before] = await ok<Obj[]>(await request.get(`/api/projects/${pid}/objects`));
  const toasts = page.locator(".toast");
  const dismissAll = async () => {
    for (const b of await page.locator(".toast button[aria-label^=Dismiss]").all()) await b.click();
    await expect(toasts).toHaveCount(0);
  };

  // The page's network is cut (the browser's own offline mode): its requests fail as they do
  // when the server is stopped; `request` (the test's) still reaches the server.
  await page.context().setOffline(true);

  await test.step("N", async () => {
    await page.keyboard.press("n");
    await expect(toasts).toHaveCount(1);
    await expect(toasts).toContainText("Could not add an object");
    await expect(toasts).toContainText("Cannot reach the server");
    await expect(page.getByTestId("object-item")).toHaveCount(1);
    await dismissAll();
  });

  await test.step("a colour change", async () => {
    await page.getByTestId("object-color").fill("#123456");
    await expect(toasts).toHaveCount(1);
    await expect(toasts).toContainText("Could not change the colour");
    await expect(toasts).toContainText("Cannot reach the server");
    await dismissAll();
  });

  await test.step("a delete", async () => {
    await page.getByTestId("object-item").hover();
    await page.getByTestId("object-delete").click();
    await page.getByTestId("confirm-ok").click();
    await expect(toasts).toHaveCount(1);
    await expect(toasts).toContainText("Could not delete the object");
    await expect(page.getByTestId("object-item")).toHaveCount(1);
    await dismissAll();
  });

  await test.step("back online: the server holds what it held, and nothing is done late", async () => {
    await page.context().setOffline(false);
    await expect(page.getByTestId("connection-lost")).toHaveCount(0, { timeout: 30_000 });
    expect(await ok<Obj[]>(await request.get(`/api/projects/${pid}/objects`))).toEqual([before]);
    await expect(toasts).toHaveCount(0);
  });
});
