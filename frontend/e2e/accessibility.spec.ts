// axe-core's checks on the start page and the editor: what a screen reader or a low-vision
// user meets. Only the rules listed are held to zero violations (the ones fixed so far).
import { expect, test, type Page } from "@playwright/test";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { clickVideo, disk, uploadFixture } from "./video";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const RULES = ["color-contrast", "landmark-unique", "button-name", "label", "page-has-heading-one", "heading-order", "aria-valid-attr-value", "nested-interactive", "aria-allowed-role", "list", "listitem"];

/** Each violated rule of `RULES` on the page as it is now, with the elements that break it. */
async function violations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  return page.evaluate(async (rules) => {
    const axe = (window as unknown as { axe: { run: (c: Document, o: object) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: "rule", values: rules }, resultTypes: ["violations"] });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }, RULES);
}

test("the start page and the editor pass axe's contrast, landmark, heading, naming, role and list rules", async ({ page, request }) => {
  const pid = await uploadFixture(request, "accessible");
  await page.goto("/");
  await expect(page.getByTestId("projects-panel")).toBeVisible();
  expect(await violations(page)).toEqual([]);
  await page.goto(`/#/p/${pid}`);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  expect(await violations(page)).toEqual([]);
  await clickVideo(page, disk(0).x, disk(0).y); // an object in the list, a point on the frame
  await expect(page.getByTestId("object-item")).toHaveCount(1);
  expect(await violations(page)).toEqual([]);
  // In (I) and Out (O): the readout and its clear button, announced
  await page.keyboard.press("i");
  await page.keyboard.press("End");
  await page.keyboard.press("o");
  await expect(page.getByTestId("inout-announcement")).toHaveText("Out set at frame 35");
  await expect(page.getByTestId("inout-readout")).toContainText("In 0 – Out 35 (36 frames)");
  expect(await violations(page)).toEqual([]);
  await page.getByRole("button", { name: "Clear In/Out" }).click();
  await expect(page.getByTestId("inout-readout")).toHaveCount(0);
  await expect(page.getByTestId("inout-announcement")).toHaveText("In and Out cleared");
});

test("the frame-rate dialog of a zip of images passes them too, keeps Tab inside, and Escape sends nothing", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("projects-panel")).toBeVisible();
  // The dialog comes before any byte is sent: the zip's contents do not matter yet.
  await page.getByTestId("upload-input").setInputFiles({ name: "plates.zip", mimeType: "application/zip", buffer: Buffer.from("PK") });
  const dialog = page.getByRole("dialog", { name: "Frame rate of the image sequence" });
  await expect(dialog.getByRole("radio", { checked: true })).toBeFocused();
  expect(await violations(page)).toEqual([]);
  await dialog.getByRole("textbox", { name: "Other rate (fps)" }).fill("0");
  await page.keyboard.press("Enter");
  await expect(dialog.getByRole("alert")).toBeVisible();
  expect(await violations(page)).toEqual([]); // the refused field and its reason too
  for (let i = 0; i < 6; i++) await page.keyboard.press("Tab");
  expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId("upload-progress")).toHaveCount(0);
});

test("focus rings: a focused dialog draws none, the controls in it and a focused row do", async ({ page, request }) => {
  const pid = await uploadFixture(request, "focus rings");
  await page.goto(`/#/p/${pid}`);
  await expect(page.getByTestId("frame-canvas")).toHaveAttribute("data-loaded", "true");
  const outline = (testid: string) =>
    page.getByTestId(testid).evaluate((el) => {
      const s = getComputedStyle(el);
      return { focusVisible: el.matches(":focus-visible"), style: s.outlineStyle };
    });
  await page.keyboard.press("?"); // by keyboard: the focus it moves is shown
  const help = page.getByTestId("shortcuts-help");
  await expect(help).toBeVisible();
  // The dialog itself takes the focus where it has no control to give it to (focusTrap.ts).
  await help.evaluate((el) => (el as HTMLElement).focus());
  expect(await outline("shortcuts-help")).toEqual({ focusVisible: true, style: "none" });
  await page.keyboard.press("Tab");
  const close = page.getByTestId("shortcuts-close");
  await expect(close).toBeFocused();
  expect(await outline("shortcuts-close")).toEqual({ focusVisible: true, style: "solid" });
  await page.keyboard.press("Escape");
  await expect(help).toHaveCount(0);

  await clickVideo(page, disk(0).x, disk(0).y); // "Object 1" in the list
  await page.getByTestId("object-select").focus();
  await page.keyboard.press("Shift"); // a key, so the row's focus shows as by keyboard
  expect(await outline("object-select")).toEqual({ focusVisible: true, style: "none" });
  expect(await outline("object-item")).toEqual({ focusVisible: false, style: "solid" });
});
