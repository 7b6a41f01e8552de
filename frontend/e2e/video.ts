// The fixture clip every spec uploads, and clicks on it in original-video pixels.
import { expect, type Page } from "@playwright/test";
import { join } from "node:path";

export const FIXTURE = join(import.meta.dirname, "fixtures", "disk.mp4"); // 320×180, 36 frames, 12 fps
export const W = 320;
export const H = 180;
/** Centre of the synthetic red disk on frame i (it moves 2 px right per frame). */
export const disk = (i: number) => ({ x: W * 0.3 + i * 2, y: H * 0.5 });

/** Click at original-video pixel (x, y) on the frame canvas. */
export async function clickVideo(page: Page, x: number, y: number, opts: { button?: "left" | "right"; alt?: boolean } = {}) {
  const canvas = page.getByTestId("frame-canvas");
  await expect(canvas).toHaveAttribute("data-loaded", "true");
  const box = (await canvas.boundingBox())!;
  const scale = Number(await canvas.getAttribute("data-scale"));
  const ox = (box.width - W * scale) / 2;
  const oy = (box.height - H * scale) / 2;
  await canvas.click({
    position: { x: ox + x * scale, y: oy + y * scale },
    button: opts.button ?? "left",
    modifiers: opts.alt ? ["Alt"] : [],
  });
}
