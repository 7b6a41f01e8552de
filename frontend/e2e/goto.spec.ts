// The transport's go-to field in the real browser, on a 29.97 fps drop-frame clip whose source
// timecode starts at 00:00:59;28 (so its third frame is 00:01:00;02: labels ;00 and ;01 are
// skipped): G or a click opens it, a frame number, a source timecode (whole or filled from the
// right) or an offset goes there, and a bad value stays put, saying why.
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "..", "..");
const LAST = 39;

/** A 40-frame 29.97 fps clip stamped with drop-frame start timecode 00:00:59;28 (PyAV, as the backend's tests make theirs). */
function timecodedClip(): string {
  const path = join(mkdtempSync(join(tmpdir(), "vidmatte-e2e-goto-")), "df.mp4");
  const python = join(repo, ".venv", "bin", "python");
  const script = `from fractions import Fraction; from pathlib import Path; from tests.synth import write_video
write_video(Path(${JSON.stringify(path)}), frames=${LAST + 1}, fps=Fraction(30000, 1001), timecode="00:00:59;28")`;
  const [cmd, args] = existsSync(python) ? [python, ["-c", script]] : ["uv", ["run", "python", "-c", script]];
  execFileSync(cmd, args, { cwd: join(repo, "backend"), stdio: "inherit" });
  return path;
}

const urlFrame = (page: Page) => Number(/\?f=(\d+)$/.exec(new URL(page.url()).hash)?.[1]);

test("go to a frame number, a source timecode or an offset; a bad value stays put and says why", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(timecodedClip());
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  const number = page.getByTestId("frame-number");
  const field = page.getByTestId("goto-input");
  const timecode = page.getByTestId("timecode");
  await expect(timecode).toHaveText("00:00:59;28");

  await test.step("G opens the field on the frame number, selected: a number and Enter go there", async () => {
    await page.keyboard.press("g");
    await expect(field).toBeFocused();
    await expect(field).toHaveValue("0");
    await page.keyboard.type("20");
    await page.keyboard.press("Enter");
    await expect(field).toHaveCount(0);
    await expect(number).toHaveText("20");
    await expect(timecode).toHaveText("00:01:00;20");
    await expect.poll(() => urlFrame(page)).toBe(20);
    await page.keyboard.press("ArrowRight"); // the shortcuts are back
    await expect(number).toHaveText("21");
  });

  await test.step("a click opens it: the source timecode the readout shows goes to its frame", async () => {
    await number.click();
    await field.fill("00:01:01;05");
    await field.press("Enter");
    await expect(number).toHaveText("35");
    await expect(timecode).toHaveText("00:01:01;05");
    await expect.poll(() => urlFrame(page)).toBe(35);
  });

  await test.step("fields fill from the right (1:00:02 is 1 min 0 s 2 frames), offsets count from here", async () => {
    await page.keyboard.press("g");
    await field.fill("1:00:02");
    await field.press("Enter");
    await expect(number).toHaveText("2");
    await expect(timecode).toHaveText("00:01:00;02");
    await page.keyboard.press("g");
    await field.fill("+10");
    await field.press("Enter");
    await expect(number).toHaveText("12");
    await expect.poll(() => urlFrame(page)).toBe(12); // the address follows the frame shown
  });

  await test.step("a bad value does not move: the field is marked invalid and says why; Escape restores", async () => {
    await page.keyboard.press("g");
    for (const [bad, why] of [
      ["900", `frame 900 is past the last frame, ${LAST}`],
      ["00:01:00;01", "00:01:00;01 — drop-frame skips frames ;00–;01 of each minute but every tenth"],
      ["00:00:59:30", "00:00:59;30 — frames run 00–29 at 29.97 fps"],
      ["abc", "type a frame number, a timecode hh:mm:ss:ff or +/- frames"],
    ]) {
      await field.fill(bad);
      await field.press("Enter");
      await expect(field).toHaveAttribute("aria-invalid", "true");
      await expect(page.getByTestId("goto-invalid")).toHaveText(why);
      await expect(field).toHaveAccessibleDescription(why);
      await expect(field).toBeFocused();
      expect(urlFrame(page)).toBe(12);
    }
    await field.fill("2"); // typing again clears the mark
    await expect(field).toHaveAttribute("aria-invalid", "false");
    await expect(page.getByTestId("goto-invalid")).toHaveCount(0);
    await page.keyboard.press("Escape");
    await expect(field).toHaveCount(0);
    await expect(number).toHaveText("12");
    expect(urlFrame(page)).toBe(12);
  });

  await test.step("the shortcuts help lists G", async () => {
    await page.keyboard.press("?");
    await expect(page.getByTestId("shortcuts-help")).toContainText("go to a frame number, timecode, +/- frames or an image's own #number");
  });
});
