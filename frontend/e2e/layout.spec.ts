// The editor's layout at the widths people use (1280×720, 1440×900, 1920×1080): nothing
// overflows sideways and no label the user needs is clipped (measured with element geometry),
// with screenshots in the test output folder (never the README's tracked ones) to look at.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { ok, uploadFixture } from "./video";

const SIZES = [
  { width: 1280, height: 720 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
] as const;
const NAME = "Drone shot of the harbour at dusk, take 3";

interface Ids {
  pid: string;
  objects: number[];
}

/** A project with two objects prompted on frame 0, a finished two-object job and a cancelled
 * job with some frames done (its progress line shows in the side panel). */
async function makeProject(request: APIRequestContext): Promise<Ids> {
  const pid = await uploadFixture(request, NAME);
  const objects: number[] = [];
  for (const [name, color, x, y] of [
    ["Disk", "#ff5a5f", 96, 90],
    ["Corner", "#3ba4ff", 300, 20],
  ] as const) {
    const o = await ok<{ id: number }>(await request.post(`/api/projects/${pid}/objects`, { data: { name, color } }));
    await ok(await request.put(`/api/projects/${pid}/objects/${o.id}/frames/0/points`, { data: { points: [{ x, y, label: "positive" }] } }));
    objects.push(o.id);
  }
  const done = await ok<{ id: string }>(await request.post(`/api/projects/${pid}/jobs`, { data: { start: 0, end: 1, object_ids: objects } }));
  await expect.poll(async () => (await ok<{ status: string }>(await request.get(`/api/jobs/${done.id}`))).status, { timeout: 240_000 }).toBe("done");
  const long = await ok<{ id: string }>(await request.post(`/api/projects/${pid}/jobs`, { data: { start: 0, end: 35, object_ids: objects } }));
  await expect.poll(async () => (await ok<{ frames_done: number }>(await request.get(`/api/jobs/${long.id}`))).frames_done, { timeout: 240_000 }).toBeGreaterThan(0);
  await ok(await request.post(`/api/jobs/${long.id}/cancel`));
  return { pid, objects };
}

/** Elements whose content is wider (or taller) than their box: text cut by overflow. */
async function clipped(page: Page, selector: string, axis: "x" | "y" = "x"): Promise<string[]> {
  return page.locator(selector).evaluateAll(
    (els, ax) =>
      els
        .filter((el) => (ax === "x" ? el.scrollWidth > el.clientWidth + 1 : el.scrollHeight > el.clientHeight + 1))
        .map((el) => `${el.className}: "${el.textContent?.trim().slice(0, 80)}" ${ax === "x" ? `${el.scrollWidth} > ${el.clientWidth}` : `${el.scrollHeight} > ${el.clientHeight}`}`),
    axis,
  );
}

let ids: Ids;
test.beforeAll(async ({ request }) => {
  test.setTimeout(480_000);
  ids = await makeProject(request);
});

for (const size of SIZES) {
  test(`layout at ${size.width}×${size.height}`, async ({ page }, info) => {
    await page.setViewportSize(size);
    // An In/Out range kept from an earlier visit: its readout takes room in the transport row.
    await page.addInitScript((pid) => localStorage.setItem(`vidmatte.inout.${pid}`, JSON.stringify({ in: 12, out: 30 })), ids.pid);
    await page.goto(`/#/p/${ids.pid}`);
    await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
    await expect(page.getByTestId("result-item")).toHaveCount(2);
    const shot = (name: string) => page.screenshot({ path: info.outputPath(`${size.width}x${size.height}-${name}.png`) });
    await shot("editor");

    await test.step("nothing overflows the window sideways", () => expectNoSidewaysOverflow(page));

    await test.step("project name, resolution and fps are shown whole", async () => {
      const item = page.locator(`[data-testid=project-item][data-project-id="${ids.pid}"]`);
      await expect(item.getByTestId("project-meta")).toContainText("320×180");
      await expect(item.getByTestId("project-meta")).toContainText("12 fps");
      expect(await clipped(page, "[data-testid=project-name]", "x")).toEqual([]);
      expect(await clipped(page, "[data-testid=project-name]", "y")).toEqual([]);
      expect(await clipped(page, "[data-testid=project-meta]")).toEqual([]);
    });

    await test.step("the In/Out readout and the frame number are shown whole", async () => {
      await expect(page.getByTestId("inout-readout")).toContainText("In 12 – Out 30 (19 frames)");
      await expect(page.getByTestId("seek-inout")).toBeVisible();
      expect(await clipped(page, ".frame-readout, .frame-readout > *, [data-testid=inout-readout]")).toEqual([]);
      // it gives way to the seek bar (a row of its own when the row is short), never squeezes it
      expect((await page.getByTestId("seek").boundingBox())!.width).toBeGreaterThanOrEqual(180);
    });

    await test.step("toolbar hint is not cut", async () => {
      expect(await clipped(page, ".tool-hint")).toEqual([]);
      expect(await clipped(page, ".toolbar")).toEqual([]);
    });

    await test.step("side panel: progress text on one line each, no clipping", async () => {
      const progress = page.getByTestId("result-progress");
      await expect(progress).toHaveCount(1);
      const lines = await progress.locator(".progress-meta > *").evaluateAll((els) =>
        els.map((el) => ({ text: el.textContent, lines: Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)) })),
      );
      for (const l of lines) expect(l, `"${l.text}" wraps`).toMatchObject({ lines: 1 });
      expect(await clipped(page, "[data-testid=side-panel]")).toEqual([]);
    });

    await test.step("tint view of the two-object result: each object's own matte", async () => {
      const done = page.locator("[data-testid=result-item][data-status=done]");
      const perObject = ids.objects.map((oid) =>
        page.waitForResponse((r) => r.url().includes("/alpha/0?") && new URL(r.url()).searchParams.get("object_id") === String(oid) && r.ok()),
      );
      await done.getByTestId("result-view").click();
      await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-mode", "tint");
      await Promise.all(perObject);
    });

    await test.step("the download menu fits the window and has a background", async () => {
      const done = page.locator("[data-testid=result-item][data-status=done]");
      await done.getByTestId("result-formats").click();
      const menu = page.getByTestId("format-menu");
      await expect(menu).toBeVisible();
      await menu.locator("label").last().scrollIntoViewIfNeeded();
      const box = (await menu.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(size.width);
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.y + box.height, "the whole menu can be seen").toBeLessThanOrEqual(size.height);
      expect(await menu.evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe("rgba(0, 0, 0, 0)");
      expect(await clipped(page, "[data-testid=format-menu] label")).toEqual([]);
      await shot("results");
    });

    await test.step("a shifted edge and reduced chatter are what the download has and what the view shows", async () => {
      const done = page.locator("[data-testid=result-item][data-status=done]");
      const shifted = (oid: number | null) =>
        page.waitForResponse((r) => {
          const q = new URL(r.url()).searchParams;
          return r.url().includes("/alpha/0?") && q.get("shift_edge") === "4" && q.get("object_id") === (oid === null ? null : String(oid)) && r.ok();
        });
      // the tint view's mattes: the union and each object's own
      const mattes = [shifted(null), ...ids.objects.map(shifted)];
      await done.getByLabel("Shift edge (px)").fill("4");
      await done.getByLabel("Shift edge (px)").press("Tab"); // taken when the field is left
      const href = (await done.getByTestId("result-download").getAttribute("href"))!;
      expect(new URL(href, page.url()).searchParams.get("shift_edge")).toBe("4");
      const zip = await page.request.get(href);
      expect(zip.ok(), await zip.text().catch(() => "")).toBe(true);
      const shown = await Promise.all(mattes);
      // what is shown is grown by 4 px, not the stored matte
      const grown = new URL(shown[1].url());
      const stored = new URL(grown);
      stored.searchParams.delete("shift_edge");
      const [a, b] = await Promise.all([grown, stored].map(async (u) => (await page.request.get(u.toString())).body()));
      expect(a.equals(b)).toBe(false);
      // chatter reduced too: the view's mattes and the download ask for it, with the shift
      const calm = page.waitForResponse((r) => {
        const q = new URL(r.url()).searchParams;
        return r.url().includes("/alpha/0?") && q.get("reduce_chatter") === "true" && q.get("shift_edge") === "4" && r.ok();
      });
      await done.getByLabel("Reduce chatter (median of 3 frames)").check();
      await calm;
      const calmHref = (await done.getByTestId("result-download").getAttribute("href"))!;
      expect(new URL(calmHref, page.url()).searchParams.get("reduce_chatter")).toBe("true");
      const calmZip = await page.request.get(calmHref);
      expect(calmZip.ok(), await calmZip.text().catch(() => "")).toBe(true);
    });

    await test.step("green screen over the composite colour chosen in the menu", async () => {
      await page.getByTestId("result-background").last().fill("#ff00ff");
      await page.getByTestId("overlay-mode-green").click();
      await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-mode", "green");
      await shot("green");
    });
  });
}

/** Neither the page nor any element of the app reaches past the window's right edge. */
async function expectNoSidewaysOverflow(page: Page): Promise<void> {
  const over = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    wide: [...document.querySelectorAll<HTMLElement>(".app *")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && el.getClientRects().length)
      .map((el) => el.className || el.tagName),
  }));
  expect(over.doc).toBeLessThanOrEqual(0);
  expect(over.wide).toEqual([]);
}

test("the finished-job dialog: a Download button in words that stays inside the dialog", async ({ page }, info) => {
  await page.setViewportSize(SIZES[0]);
  await page.goto(`/#/p/${ids.pid}`);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await page.getByTestId("matting-open").click();
  await page.getByTestId("matting-start").fill("0");
  await page.getByTestId("matting-end").fill("0");
  for (const f of ["alpha_png", "rgba_png", "prores4444", "webm_alpha", "composite_mp4", "alpha_mp4"]) {
    await page.locator(`[data-testid=matting-format][data-format="${f}"]`).check();
  }
  await page.getByTestId("matting-run").click();
  await expect(page.getByTestId("job-view")).toBeVisible();
  // the Run button is gone with the form: the keyboard stays in the dialog
  expect(await page.evaluate(() => document.querySelector("[data-testid=matting-dialog]")!.contains(document.activeElement))).toBe(true);
  await expect(page.getByTestId("job-status")).toHaveAttribute("data-status", "done", { timeout: 240_000 });
  const link = page.getByTestId("download-link");
  await expect(link).toHaveText("Download ZIP");
  await expect(page.getByTestId("download-formats")).toContainText("ProRes 4444");
  await expect(page.getByTestId("download-formats")).not.toContainText("prores4444");
  const dialog = (await page.getByTestId("matting-dialog").boundingBox())!;
  for (const el of await page.locator("[data-testid=matting-dialog] .modal-actions > *").all()) {
    const b = (await el.boundingBox())!;
    expect(b.x).toBeGreaterThanOrEqual(dialog.x);
    expect(b.x + b.width).toBeLessThanOrEqual(dialog.x + dialog.width);
  }
  expect(await clipped(page, "[data-testid=matting-dialog]")).toEqual([]);
  await page.screenshot({ path: info.outputPath("finished-dialog.png") });
});

/** A track that runs (always: the server's answers are replaced, and the project says it has
 * one, or the editor would not ask), as the toolbar shows it. */
async function showRunningTrack(page: Page, pid: string) {
  const running = {
    project_id: pid,
    status: "running",
    start: 0,
    end: 35,
    object_ids: ids.objects,
    mask_width: 256,
    mask_height: 144,
    run: { start: 0, end: 35, object_ids: ids.objects },
    frames_done: 4,
    frames_total: 36,
    fps: 9.9,
    eta_seconds: 3.2,
    error: null,
    stale: false,
    tracked: [[0, 3]],
    flags: [],
  };
  await page.route(`**/api/projects/${pid}`, async (route) => route.fulfill({ json: { ...(await (await route.fetch()).json()), has_track: true } }));
  await page.route(`**/api/projects/${pid}/track`, (route) => route.fulfill({ json: running }));
  await page.route(`**/api/projects/${pid}/track/events`, (route) =>
    route.fulfill({ contentType: "text/event-stream", body: `event: progress\ndata: ${JSON.stringify(running)}\n\n` }),
  );
}

/** Where each selected element is not in `box`, or a click on its middle would hit something else. */
async function unreachable(page: Page, selector: string, box: string): Promise<string[]> {
  return page.evaluate(
    ([sel, boxSel]) => {
      const outer = document.querySelector(boxSel)!.getBoundingClientRect();
      return [...document.querySelectorAll<HTMLElement>(sel)].flatMap((el) => {
        el.scrollIntoView({ block: "nearest", inline: "nearest" });
        const r = el.getBoundingClientRect();
        const name = el.dataset.testid ?? el.className;
        if (r.width < 1 || r.left < outer.left - 1 || r.right > outer.right + 1 || r.top < outer.top - 1 || r.bottom > outer.bottom + 1)
          return [`${name} at ${Math.round(r.left)}–${Math.round(r.right)} × ${Math.round(r.top)}–${Math.round(r.bottom)} is outside ${boxSel}`];
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit && el.contains(hit) ? [] : [`${name}: a click on it hits ${hit?.className || hit?.tagName}`];
      });
    },
    [selector, box] as const,
  );
}

test("during a track at 1280×720 every toolbar button stays in the editor column and can be clicked", async ({ page }, info) => {
  await page.setViewportSize(SIZES[0]);
  await showRunningTrack(page, ids.pid);
  await page.goto(`/#/p/${ids.pid}`);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  await expect(page.getByTestId("track-cancel")).toBeVisible();
  await expect(page.getByTestId("track-status")).toHaveText(/^4 \/ 36 frames/);
  await page.screenshot({ path: info.outputPath("toolbar-during-track.png") });
  expect(await page.locator(".toolbar button").count()).toBe(8);
  expect(await unreachable(page, ".toolbar button", "[data-testid=editor]")).toEqual([]);
  expect(await clipped(page, ".toolbar")).toEqual([]);
});

test("at 360 px the panels stack under a usable video, and Matting fits the phone", async ({ page }, info) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await showRunningTrack(page, ids.pid);
  await page.goto(`/#/p/${ids.pid}`);
  const canvas = page.getByTestId("frame-canvas");
  await expect(canvas).toHaveAttribute("data-loaded", "true");
  await expect(page.getByTestId("track-cancel")).toBeVisible();
  await page.screenshot({ path: info.outputPath("360-editor.png"), fullPage: true });

  await test.step("nothing overflows the window sideways", () => expectNoSidewaysOverflow(page));

  await test.step("the video comes first, full width; objects and results below it", async () => {
    const stage = (await canvas.boundingBox())!;
    expect(stage.width).toBeGreaterThanOrEqual(340);
    expect(stage.height).toBeGreaterThanOrEqual(150);
    expect(stage.y).toBeLessThan(740);
    const main = (await page.getByTestId("editor").boundingBox())!;
    const side = (await page.getByTestId("side-panel").boundingBox())!;
    expect(side.y).toBeGreaterThanOrEqual(main.y + main.height - 1);
    expect(side.width).toBeGreaterThanOrEqual(340);
    expect(await unreachable(page, "[data-testid=frame-canvas], [data-testid=seek], .toolbar button, .transport button", "[data-testid=editor]")).toEqual([]);
  });

  await test.step("a point can be clicked on the frame, and the seek bar seeks", async () => {
    const seek = page.getByTestId("seek");
    expect((await seek.boundingBox())!.width).toBeGreaterThanOrEqual(250);
    await seek.click({ position: { x: (await seek.boundingBox())!.width - 4, y: 14 } });
    await expect(page.getByTestId("frame-number")).toHaveText("35");
    // A click lands on the picture shown: frame 35's must be loaded (a busy machine clicked
    // while it loaded, and the click was rightly ignored).
    await expect(canvas).toHaveAttribute("data-loaded", "true");
    await canvas.scrollIntoViewIfNeeded();
    await canvas.click();
    await expect(page.getByTestId("frame-summary")).toContainText("1 positive");
  });

  await test.step("the Matting dialog shows its content whole", async () => {
    await page.getByTestId("matting-open").click();
    const dialog = page.getByTestId("matting-dialog");
    await expect(dialog).toBeVisible();
    const box = (await dialog.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(360);
    expect(await clipped(page, "[data-testid=matting-dialog]")).toEqual([]);
    const outside = await dialog.evaluate((d) => {
      const r = d.getBoundingClientRect();
      return [...d.querySelectorAll<HTMLElement>("*")]
        .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > r.right + 1)
        .map((el) => `${el.className || el.tagName}: "${el.textContent?.trim().slice(0, 40)}"`);
    });
    expect(outside).toEqual([]);
    await page.screenshot({ path: info.outputPath("360-matting.png") });
  });
});

test("a 200-character project name gives way in the top bar: the bar keeps its height and the server pill stays whole", async ({ page, request }, info) => {
  const pid = await uploadFixture(request, "a".repeat(200));
  await page.goto(`/#/p/${pid}`);
  await expect(page.getByTestId("health")).toBeVisible();
  for (const width of [...SIZES.map((s) => s.width), 360]) {
    await page.setViewportSize({ width, height: 720 });
    const bar = (await page.locator(".topbar").boundingBox())!;
    const pill = (await page.getByTestId("health").boundingBox())!;
    expect(bar.height, `top bar at ${width} px`).toBeLessThanOrEqual(47);
    expect(pill.y, `pill at ${width} px`).toBeGreaterThanOrEqual(bar.y);
    expect(pill.y + pill.height, `pill at ${width} px`).toBeLessThanOrEqual(bar.y + bar.height);
    await expectNoSidewaysOverflow(page);
    const title = page.getByTestId("project-title").locator("h1");
    expect(await title.evaluate((el) => getComputedStyle(el).textOverflow), "the name ends in an ellipsis").toBe("ellipsis");
    expect(await clipped(page, "[data-testid=project-title] h1"), "the name is what gives way").not.toEqual([]);
    if (width >= 1280) expect(await clipped(page, "[data-testid=health]"), "the pill is whole where there is room").toEqual([]);
    await page.screenshot({ path: info.outputPath(`long-name-topbar-${width}.png`), clip: { x: 0, y: 0, width, height: 60 } });
  }
  expect((await request.delete(`/api/projects/${pid}`)).ok()).toBe(true);
});
