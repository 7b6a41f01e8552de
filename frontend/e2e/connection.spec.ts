// The server dies mid-session and comes back: the editor says the connection is lost (toolbar,
// top bar pill, the running job's badge), keeps a point clicked meanwhile marked unsaved, and
// saves it once the server answers again. This spec runs its own `vidmatte serve` (own port and
// data dir) so that killing it leaves the other specs' server alone; it restarts it on the same
// port and dir.
import { expect, test } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { clickVideo, disk, FIXTURE } from "./video";

const repo = resolve(import.meta.dirname, "..", "..");
const port = 30000 + Math.floor(Math.random() * 10000);
const origin = `http://127.0.0.1:${port}`;
const token = `e2e-conn-${Math.random().toString(36).slice(2)}`;
const dataDir = mkdtempSync(join(tmpdir(), "vidmatte-e2e-conn-"));
const localBin = join(repo, ".venv", "bin", "vidmatte");
const [bin, ...binArgs] = existsSync(localBin) ? [localBin] : ["uv", "run", "vidmatte"];

test.use({
  baseURL: origin,
  storageState: {
    cookies: [{ name: `vidmatte-token-${port}`, value: token, domain: "127.0.0.1", path: "/", expires: -1, httpOnly: true, secure: false, sameSite: "Strict" }],
    origins: [],
  },
});

let server: ChildProcess | null = null;

/** Start `serve` on the spec's port and data dir and wait until it answers. */
async function startServer(): Promise<void> {
  const args = [...binArgs, "serve", "--port", String(port), "--sam2", "test-tiny", "--data-dir", dataDir, "--token", token];
  // Its own process group: a kill reaches the Python process under `uv run` too.
  server = spawn(bin, args, { cwd: repo, detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  server.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`serve exited ${server.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${origin}/api/health`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`serve did not answer within 180 s: ${stderr}`);
}

/** Kill the server the way a crash does (SIGKILL, no clean shutdown) and wait until it is gone. */
async function killServer(): Promise<void> {
  const proc = server;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once("exit", r));
  process.kill(-proc.pid!, "SIGKILL");
  await gone;
}

test.beforeAll(async () => {
  await startServer();
});

test.afterAll(async () => {
  await killServer();
  rmSync(dataDir, { recursive: true, force: true });
});

test("server killed and restarted: the lost connection is shown and the point clicked meanwhile is saved after", async ({ page, request }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Every toast ever shown (they fade after seconds), to check none names a job id.
  await page.addInitScript(() => {
    const seen: string[] = ((window as unknown as { toastsSeen: string[] }).toastsSeen = []);
    new MutationObserver((records) => {
      for (const r of records) r.addedNodes.forEach((n) => n instanceof HTMLElement && n.matches(".toast") && seen.push(n.textContent ?? ""));
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  const pid = (await page.getByTestId("editor").getAttribute("data-project-id"))!;
  const auth = { Authorization: `Bearer ${token}` };
  const savedPoints = async () => {
    const res = await request.get(`/api/projects/${pid}/points`, { headers: auth });
    expect(res.status()).toBe(200);
    type Stored = { object_id: number; frame: number; points: { x: number; y: number }[] };
    return ((await res.json()) as Stored[]).flatMap((fp) => fp.points.map((p) => ({ object: fp.object_id, frame: fp.frame, ...p })));
  };

  await test.step("a point saved while the server is up", async () => {
    const saved = page.waitForResponse((r) => r.url().includes(`/api/projects/${pid}/objects/`) && r.request().method() === "PUT" && r.ok());
    await clickVideo(page, 96, 90);
    await saved;
    await expect(page.getByTestId("point-marker")).toHaveAttribute("data-unsaved", "false");
    await expect(page.getByTestId("connection-lost")).toHaveCount(0);
    await expect(page.getByTestId("health")).toHaveAttribute("data-online", "true");
  });

  let jobId = "";
  await test.step("a matting job runs, then the server dies: toolbar and job say the connection is lost", async () => {
    await page.getByTestId("matting-open").click();
    await page.getByTestId("matting-start").fill("0");
    await page.getByTestId("matting-end").fill("35");
    await page.getByTestId("matting-run").click();
    await expect(page.getByTestId("job-progress")).toBeVisible();
    jobId = (await page.getByTestId("job-view").getAttribute("data-job-id"))!;
    await expect(page.getByTestId("job-status")).toHaveAttribute("data-status", "running", { timeout: 60_000 });
    await killServer();
    await expect(page.getByTestId("connection-lost")).toBeVisible({ timeout: 30_000 }); // the heartbeat or the job's stream notices
    const pill = page.getByTestId("health"); // the top bar says it too
    await expect(pill).toHaveAttribute("data-online", "false");
    await expect(pill).toHaveText("offline — reconnecting…");
    const badge = page.getByTestId("job-status");
    await expect(badge).toHaveText("connection lost");
    await expect(badge).toHaveAttribute("data-connection", "lost");
    await expect(page.getByTestId("job-progress")).not.toContainText("ETA");
    await page.getByTestId("matting-close").click();
  });

  await test.step("a point clicked while it is down stays, marked unsaved", async () => {
    await clickVideo(page, 250, 40);
    const markers = page.getByTestId("point-marker");
    await expect(markers).toHaveCount(2);
    await expect(markers.nth(1)).toHaveAttribute("data-unsaved", "true");
    await expect(markers.nth(0)).toHaveAttribute("data-unsaved", "false");
    await expect(page.getByTestId("connection-lost")).toContainText("1 unsaved");
    await expect(page.getByTestId("frame-summary")).toContainText("1 not saved yet");
  });

  await test.step("the server restarts on the same data dir and port: the point is saved, and what changed meanwhile shows", async () => {
    // Another tab reaches the server first and adds an object with a point: the page's
    // requests fail on until that is stored, as they would before its next probe.
    await page.route("**/api/**", (route) => route.abort());
    await startServer();
    const made = await request.post(`/api/projects/${pid}/objects`, { headers: auth, data: { name: "from elsewhere" } });
    expect(made.status()).toBe(201);
    const otherId = ((await made.json()) as { id: number }).id;
    const put = await request.put(`/api/projects/${pid}/objects/${otherId}/frames/0/points`, {
      headers: auth,
      data: { points: [{ x: 150, y: 150, label: "positive" }] },
    });
    expect(put.status()).toBe(200);
    await page.unroute("**/api/**");
    await expect(page.getByTestId("connection-lost")).toHaveCount(0, { timeout: 30_000 });
    await expect(page.getByTestId("health")).toHaveAttribute("data-online", "true");
    await expect(page.getByTestId("health")).toContainText("SAM2 test-tiny");
    await expect(page.getByTestId("object-item")).toHaveCount(2);
    await expect(page.getByTestId("object-item").nth(1)).toHaveAttribute("data-object-id", String(otherId));
    await expect(page.getByTestId("point-marker")).toHaveCount(3);
    await expect(page.locator("[data-testid=point-marker][data-unsaved=true]")).toHaveCount(0);
    const saved = (await savedPoints()).filter((p) => p.object !== otherId);
    expect(saved.map((p) => p.frame)).toEqual([0, 0]);
    expect(Math.hypot(saved[0].x - 96, saved[0].y - 90)).toBeLessThan(1.5);
    expect(Math.hypot(saved[1].x - 250, saved[1].y - 40)).toBeLessThan(1.5);
    // The job the crash stopped is listed as interrupted, no longer as running.
    await expect(page.locator(`[data-testid=result-item][data-job-id="${jobId}"]`)).toHaveAttribute("data-status", "interrupted", { timeout: 30_000 });
  });

  await test.step("a reload shows both points, and no message ever named the job's internal id", async () => {
    const toastTexts = await page.evaluate(() => (window as unknown as { toastsSeen: string[] }).toastsSeen);
    for (const text of toastTexts) expect(text).not.toContain(jobId);
    await page.reload();
    await expect(page.getByTestId("point-marker")).toHaveCount(3);
    await expect(page.locator("[data-testid=point-marker][data-unsaved=true]")).toHaveCount(0);
  });

  await test.step("with no project open the top bar pill too notices the server going and coming back", async () => {
    await page.goto("/");
    await expect(page.getByTestId("welcome")).toBeVisible();
    await expect(page.getByTestId("health")).toHaveAttribute("data-online", "true");
    await killServer();
    await expect(page.getByTestId("health")).toHaveText("offline — reconnecting…", { timeout: 30_000 }); // App's heartbeat
    await startServer();
    await expect(page.getByTestId("health")).toHaveAttribute("data-online", "true", { timeout: 30_000 });
    await expect(page.getByTestId("project-item")).toHaveCount(1);
  });

  expect(errors).toEqual([]);
});

test("a tracked mask that cannot load while the server is down is hidden, and shows once it is back", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await clickVideo(page, disk(0).x, disk(0).y);
  await page.getByTestId("track-start").click();
  await expect(page.getByTestId("track-status")).toHaveText("tracked 0–35", { timeout: 120_000 });
  const layer = page.getByTestId("preview-layer");
  const loadedMask = () => layer.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth);
  await page.getByTestId("seek").fill("20");
  await expect.poll(loadedMask).toBe(256);

  await test.step("the server dies, the next frame's mask fails: no broken image over the frame", async () => {
    await killServer();
    await page.keyboard.press("ArrowRight");
    await expect(page.getByTestId("frame-number")).toHaveText("21");
    await expect(layer).toHaveCount(0);
  });

  await test.step("the server is back: the frame's mask loads without leaving the frame", async () => {
    await startServer();
    await expect(page.getByTestId("health")).toHaveAttribute("data-online", "true", { timeout: 30_000 });
    await expect(layer).toHaveAttribute("src", /\/track\/masks\/21\?/);
    await expect.poll(loadedMask, { timeout: 30_000 }).toBe(256);
  });

  expect(errors).toEqual([]);
});
