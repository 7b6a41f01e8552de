// Opening a project asks only for what it has: one never tracked opens without a request the
// server refuses (a 404 for its track would be logged in the console as a failed request),
// and one tracked since the project list was read still shows its track.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { disk, ok, uploadFixture } from "./video";

/** Every refused or failed request, console error and uncaught exception of `page` from now on.
 * A load the page itself dropped is no failure: a frame's tracked mask gives way to its preview. */
function watchFailures(page: Page): string[] {
  const failures: string[] = [];
  page.on("response", (r) => r.status() >= 400 && failures.push(`${r.status()} ${r.request().method()} ${r.url()}`));
  page.on("requestfailed", (r) => {
    const why = r.failure()?.errorText;
    if (why !== "net::ERR_ABORTED") failures.push(`failed ${r.method()} ${r.url()}: ${why}`);
  });
  page.on("console", (m) => m.type() === "error" && failures.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => failures.push(`page: ${e}`));
  return failures;
}

/** A track of the whole clip from one click on the disk, made through the API and finished. */
async function trackThroughApi(request: APIRequestContext, pid: string): Promise<void> {
  const object = await ok<{ id: number }>(await request.post(`/api/projects/${pid}/objects`, { data: {} }));
  await ok(await request.put(`/api/projects/${pid}/objects/${object.id}/frames/0/points`, { data: { points: [{ ...disk(0), label: "positive" }] } }));
  await ok(await request.post(`/api/projects/${pid}/track`, { data: { start: 0, end: 35 } }));
  await expect.poll(async () => (await ok<{ status: string }>(await request.get(`/api/projects/${pid}/track`))).status, { timeout: 120_000 }).toBe("done");
}

test("a project never tracked opens without a failed request or a console error", async ({ page, request }) => {
  const pid = await uploadFixture(request, "never tracked");
  const failures = watchFailures(page);
  await page.goto(`/#/p/${pid}`);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await page.waitForLoadState("networkidle"); // the editor has asked for everything it reads at start
  await expect(page.getByTestId("track-status")).toHaveCount(0);
  expect(failures).toEqual([]);
});

test("a project tracked after the project list was read shows its track when opened", async ({ page, request }) => {
  const tracked = await uploadFixture(request, "tracked later");
  const other = await uploadFixture(request, "opened first");
  const failures = watchFailures(page);
  await page.goto(`/#/p/${other}`);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await trackThroughApi(request, tracked); // another tab or a script: this page's list is older

  await page.locator(`[data-testid=project-item][data-project-id="${tracked}"]`).click();
  await expect(page.getByTestId("editor")).toHaveAttribute("data-project-id", tracked);
  await expect(page.getByTestId("track-status")).toHaveText("tracked 0–35");
  expect(failures).toEqual([]);
});
