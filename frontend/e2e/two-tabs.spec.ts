// One project open in two tabs: a tab shown again reads what the other one did (objects,
// points, jobs, the track), and a save the other tab's work refused names the object as the
// list shows it and says what the editor did about it.
import { expect, test, type Page, type Response } from "@playwright/test";
import { clickVideo, ok, uploadFixture } from "./video";

interface Obj {
  id: number;
  name: string;
}

/** The user comes back to `page`'s tab. Headless Chromium keeps every tab visible and never
 * sends this event, so it is sent as the browser does when a hidden tab is shown again. */
async function showAgain(page: Page): Promise<void> {
  await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
}

/** Click `page`'s video and wait until the server stored the point. A marker shows unsaved only
 * while its point is held (the server away): one on its way shows saved already, and another
 * tab reading then would find the new object without its point. */
async function clickStored(page: Page, pid: string, x: number, y: number): Promise<void> {
  const put = (r: Response) => r.url().includes(`/api/projects/${pid}/objects/`) && r.request().method() === "PUT" && r.ok();
  const stored = page.waitForResponse(put);
  await clickVideo(page, x, y);
  await stored;
}

/** The project open in `a` and in a second page of its browser, which is returned. */
async function openInBoth(a: Page, pid: string): Promise<Page> {
  const b = await a.context().newPage();
  for (const p of [a, b]) {
    await p.goto(`/#/p/${pid}`);
    await expect(p.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  }
  return b;
}

test("a tab shown again reads the other tab's objects, points, jobs and track; refused saves name the object", async ({ page: a, request }) => {
  const pid = await uploadFixture(request, "two tabs");
  const b = await openInBoth(a, pid);
  const objects = async () => ok<Obj[]>(await request.get(`/api/projects/${pid}/objects`));

  await test.step("A clicks (making Object 1); B, shown again, lists it with its point", async () => {
    await clickStored(a, pid, 96, 90);
    await showAgain(b);
    await expect(b.getByTestId("object-name")).toHaveText(["Object 1"]);
    await expect(b.getByTestId("point-marker")).toHaveCount(1);
  });

  await test.step("B's click then goes to Object 1: no second object", async () => {
    await clickVideo(b, 200, 40);
    await expect(b.getByTestId("point-marker")).toHaveCount(2);
    await expect(b.getByTestId("point-marker").nth(1)).toHaveAttribute("data-unsaved", "false");
    expect((await objects()).map((o) => o.name)).toEqual(["Object 1"]);
  });

  await test.step("A, not shown again, clicks frame 0 over B's point: refused, named, reloaded", async () => {
    const [o1] = await objects();
    await clickVideo(a, 250, 150);
    const toast = a.locator(".toast");
    await expect(toast).toHaveCount(1);
    await expect(toast).toContainText("Could not save the points of frame 0");
    await expect(toast).toContainText('Another tab or window changed the points of "Object 1" here: they are reloaded, click again.');
    await expect(toast).not.toContainText(`object ${o1.id}`);
    await expect(a.getByTestId("point-marker")).toHaveCount(2); // the server's: A's first, B's
  });

  await test.step("A deletes a new object B has selected: B's click says which one is gone", async () => {
    await a.keyboard.press("n");
    await expect(a.getByTestId("object-name")).toHaveText(["Object 1", "Object 2"]);
    await showAgain(b);
    await expect(b.getByTestId("object-name")).toHaveText(["Object 1", "Object 2"]);
    await b.keyboard.press("2");
    const o2 = (await objects())[1];
    await a.getByTestId("object-item").nth(1).hover();
    await a.getByTestId("object-delete").nth(1).click();
    await a.getByTestId("confirm-ok").click();
    await expect(a.getByTestId("object-name")).toHaveText(["Object 1"]);
    await clickVideo(b, 20, 20);
    const toast = b.locator(".toast");
    await expect(toast).toHaveCount(1);
    await expect(toast).toContainText('"Object 2" does not exist in the project');
    await expect(toast).not.toContainText(`object ${o2.id}`);
    await expect(b.getByTestId("object-name")).toHaveText(["Object 1"]);
  });

  await test.step("a job and a track started elsewhere show in B once it is shown again", async () => {
    const job = await ok<{ id: string }>(await request.post(`/api/projects/${pid}/jobs`, { data: { start: 0, end: 1, object_ids: null } }));
    await ok(await request.post(`/api/projects/${pid}/track`, { data: { start: 0, end: 3 } }));
    await expect(b.getByTestId("track-bar")).toHaveAttribute("data-status", "none");
    await showAgain(b);
    await expect(b.locator(`[data-testid=result-item][data-job-id="${job.id}"]`)).toHaveCount(1);
    await expect(b.getByTestId("track-status")).toHaveText("tracked 0–3", { timeout: 120_000 });
  });
});

test("side by side, a window clicked into reads what the other one did (no tab is ever hidden)", async ({ page: a, request }) => {
  const pid = await uploadFixture(request, "side by side");
  const b = await openInBoth(a, pid);
  await clickStored(a, pid, 96, 90);
  await expect(b.getByTestId("point-marker")).toHaveCount(0);
  // Headless Chromium treats every page as focused and sends no focus event on its own: sent
  // as the browser does when the user clicks into the other window.
  await b.evaluate(() => window.dispatchEvent(new Event("focus")));
  await expect(b.getByTestId("object-name")).toHaveText(["Object 1"]);
  await expect(b.getByTestId("point-marker")).toHaveCount(1);
});
