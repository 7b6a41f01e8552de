// The fixture clip every spec uploads (through the page or the API), and clicks on it in original-video pixels.
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURE = join(import.meta.dirname, "fixtures", "disk.mp4"); // 320×180, 36 frames, 12 fps
export const W = 320;
export const H = 180;
/** Centre of the synthetic red disk on frame i (it moves 2 px right per frame). */
export const disk = (i: number) => ({ x: W * 0.3 + i * 2, y: H * 0.5 });

/** Where original-video pixel (x, y) is drawn on the frame canvas, in the canvas's own pixels. */
export async function videoPosition(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const canvas = page.getByTestId("frame-canvas");
  const box = (await canvas.boundingBox())!;
  // Drawn pixels per stored pixel, across and down (they differ for non-square pixels).
  const sx = Number(await canvas.getAttribute("data-scale-x"));
  const sy = Number(await canvas.getAttribute("data-scale-y"));
  // Centred, then moved by the pan of a zoomed stage (0 when fitted).
  const ox = (box.width - W * sx) / 2 + Number((await canvas.getAttribute("data-pan-x")) ?? 0);
  const oy = (box.height - H * sy) / 2 + Number((await canvas.getAttribute("data-pan-y")) ?? 0);
  return { x: ox + x * sx, y: oy + y * sy };
}

/** Stored pixel (x, y) as a page position (for the mouse) where the canvas draws it now. */
export async function pageAt(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId("frame-canvas").boundingBox())!;
  const p = await videoPosition(page, x, y);
  return { x: box.x + p.x, y: box.y + p.y };
}

/** A frame's stored points of one object, as GET /points lists them. */
export interface FramePoints {
  frame: number;
  points: { x: number; y: number; label: string }[];
}

/** Every stored point of a project, each with its frame. */
export async function savedPoints(request: APIRequestContext, pid: string) {
  const frames = await ok<FramePoints[]>(await request.get(`/api/projects/${pid}/points`));
  return frames.flatMap((fp) => fp.points.map((p) => ({ frame: fp.frame, ...p })));
}

/** Click at original-video pixel (x, y) on the frame canvas, once the shown frame is loaded. */
export async function clickVideo(page: Page, x: number, y: number, opts: { button?: "left" | "right"; alt?: boolean } = {}) {
  const canvas = page.getByTestId("frame-canvas");
  await expect(canvas).toHaveAttribute("data-loaded", "true");
  await canvas.click({
    position: await videoPosition(page, x, y),
    button: opts.button ?? "left",
    modifiers: opts.alt ? ["Alt"] : [],
  });
}

export async function ok<T>(res: Awaited<ReturnType<APIRequestContext["get"]>>): Promise<T> {
  expect(res.ok(), `${res.url()}: ${res.status()} ${await res.text()}`).toBe(true);
  return (await res.json()) as T;
}

/** The fixture clip uploaded as a project called `name`; its id. */
export async function uploadFixture(request: APIRequestContext, name: string): Promise<string> {
  const project = await ok<{ id: string }>(
    await request.post("/api/projects", {
      multipart: { file: { name: "disk.mp4", mimeType: "video/mp4", buffer: readFileSync(FIXTURE) }, name },
    }),
  );
  return project.id;
}
