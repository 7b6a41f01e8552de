// Zoom and pan of the frame, in Chromium against the real server: the wheel zooms about the
// pointer (the stored pixel under it stays there, and a click lands on it), Alt+click at any
// zoom is a negative point where it is drawn, Shift+drag and a middle-button drag pan without
// adding points, the view stays while stepping frames, and 0, the keys and the badge's Fit go
// back to the fitted frame.
import { expect, test } from "@playwright/test";
import { pageAt, savedPoints, uploadFixture } from "./video";

test("wheel zoom about the pointer, clicks on the right pixel, Shift/middle drag pans, 0 fits again", async ({ page, request }) => {
  const pid = await uploadFixture(request, "zoom");
  const saved = () => savedPoints(request, pid);
  await page.goto(`/#/p/${pid}`);
  const canvas = page.getByTestId("frame-canvas");
  await expect(canvas).toHaveAttribute("data-loaded", "true");
  const fitScale = (await canvas.getAttribute("data-scale-x"))!;
  const badge = page.getByTestId("stage-zoom");
  const markers = page.getByTestId("point-marker");
  await expect(canvas).toHaveAttribute("data-zoom", "1.0000");
  await expect(badge).toHaveCount(0);

  await test.step("five wheel notches up zoom e× about the pointer; a click there is that pixel", async () => {
    const at = await pageAt(page, 240, 60);
    await page.mouse.move(at.x, at.y);
    for (let i = 0; i < 5; i++) await page.mouse.wheel(0, -100);
    await expect(canvas).toHaveAttribute("data-zoom", Math.E.toFixed(4)); // 100 px a notch: ×e^0.2
    await expect(badge).toContainText("272%");
    expect(Number(await canvas.getAttribute("data-scale-x"))).toBeCloseTo(Number(fitScale) * Math.E, 3);
    await page.mouse.click(at.x, at.y);
    await expect(markers).toHaveCount(1);
    await expect.poll(saved).toHaveLength(1);
    const [p] = await saved();
    expect(p.label).toBe("positive");
    expect(Math.abs(p.x - 240)).toBeLessThanOrEqual(1);
    expect(Math.abs(p.y - 60)).toBeLessThanOrEqual(1);
  });

  await test.step("Alt+click at the zoom is a negative point where it is drawn", async () => {
    const at = await pageAt(page, 250.5, 70.5);
    await page.keyboard.down("Alt");
    await page.mouse.click(at.x, at.y);
    await page.keyboard.up("Alt");
    await expect(markers).toHaveCount(2);
    await expect.poll(async () => (await saved()).length).toBe(2);
    const n = (await saved()).find((q) => q.label === "negative")!;
    expect(Math.abs(n.x - 250.5)).toBeLessThanOrEqual(1);
    expect(Math.abs(n.y - 70.5)).toBeLessThanOrEqual(1);
  });

  await test.step("Shift+drag and a middle-button drag pan, and add no point", async () => {
    const panX = async () => Number(await canvas.getAttribute("data-pan-x"));
    const panY = async () => Number(await canvas.getAttribute("data-pan-y"));
    const x0 = await panX();
    const y0 = await panY();
    expect(x0).toBeLessThan(0); // zoomed about a pixel right of the centre
    const box = (await canvas.boundingBox())!;
    const from = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await page.keyboard.down("Shift");
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + 40, from.y - 10, { steps: 4 });
    await page.mouse.move(from.x + 80, from.y - 20, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up("Shift");
    await expect.poll(panX).toBeCloseTo(x0 + 80, 0);
    await expect.poll(panY).toBeCloseTo(y0 - 20, 0);
    await page.keyboard.down("Shift");
    await page.mouse.click(from.x, from.y); // a Shift+click without a move: nothing either
    await page.keyboard.up("Shift");

    await page.mouse.move(from.x, from.y);
    await page.mouse.down({ button: "middle" });
    await page.mouse.move(from.x - 30, from.y, { steps: 4 });
    await page.mouse.up({ button: "middle" });
    await expect.poll(panX).toBeCloseTo(x0 + 50, 0);
    await expect(markers).toHaveCount(2);
    expect(await saved()).toHaveLength(2);
  });

  await test.step("the view stays while stepping frames; 0 fits again", async () => {
    const zoom = await canvas.getAttribute("data-zoom");
    const pan = await canvas.getAttribute("data-pan-x");
    await page.keyboard.press("ArrowRight");
    await expect(canvas).toHaveAttribute("data-frame", "1");
    await expect(canvas).toHaveAttribute("data-zoom", zoom!);
    await expect(canvas).toHaveAttribute("data-pan-x", pan!);
    await page.keyboard.press("0");
    await expect(canvas).toHaveAttribute("data-zoom", "1.0000");
    await expect(canvas).toHaveAttribute("data-scale-x", fitScale);
    await expect(canvas).toHaveAttribute("data-pan-x", "0.0");
    await expect(badge).toHaveCount(0);
  });

  await test.step("+ and = zoom in about the centre, - out, the badge's Fit goes back", async () => {
    await page.keyboard.press("=");
    await page.keyboard.press("+");
    await expect(canvas).toHaveAttribute("data-zoom", "2.0000");
    await expect(canvas).toHaveAttribute("data-pan-x", "0.0");
    await page.keyboard.press("-");
    await expect(canvas).toHaveAttribute("data-zoom", Math.SQRT2.toFixed(4));
    await expect(badge).toContainText("141%");
    await page.getByTestId("zoom-fit").click();
    await expect(canvas).toHaveAttribute("data-zoom", "1.0000");
    await expect(canvas).toHaveAttribute("data-scale-x", fitScale);
    await expect(badge).toHaveCount(0);
    await expect(markers).toHaveCount(0); // frame 1 has none: Fit's click added nothing
  });
});
