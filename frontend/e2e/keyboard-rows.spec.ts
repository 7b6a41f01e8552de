// The project and object lists by keyboard, in Chromium against the real server: a row's name is
// a button that Enter or Space presses, Delete on a row is that row's delete (asked first), never
// "clear this frame" behind it (nor is Delete on any other focused button), and the focus
// stays where a keyboard user works: back on Rename after an edit, even once the server's
// answer redraws the list, and on a neighbouring row after a delete.
import { expect, test, type Page } from "@playwright/test";
import { clickVideo, FIXTURE, uploadFixture } from "./video";

/** A project with one saved point on frame 0 open in the editor, and another one listed. */
async function openWithPoint(page: Page, other: string): Promise<string> {
  await uploadFixture(page.request, other);
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await clickVideo(page, 96, 90); // makes "Object 1"
  await expect(page.getByTestId("frame-summary")).toHaveText("1 positive, 0 negative on this frame");
  return (await page.getByTestId("editor").getAttribute("data-project-id"))!;
}

test("Delete on a focused project or object row asks to delete that row, and the frame keeps its points", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const pid = await openWithPoint(page, "kept by Cancel");
  const summary = page.getByTestId("frame-summary");
  const dialog = page.getByTestId("confirm-dialog");
  const otherRow = page.getByTestId("project-item").filter({ hasText: "kept by Cancel" }).getByTestId("project-open");
  const objectRow = page.getByTestId("object-select");

  await test.step("an object's name: Space and Enter select it, not play nor scroll", async () => {
    await page.getByTestId("object-add").click(); // "Object 2", selected
    const first = page.getByTestId("object-select").first();
    await expect(first).toHaveAttribute("aria-pressed", "false");
    await first.focus();
    await page.keyboard.press("Space");
    await expect(first).toHaveAttribute("aria-pressed", "true");
    await expect(page.getByTestId("play")).toHaveAttribute("aria-label", "Play");
    await page.getByTestId("object-select").last().focus();
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("object-select").last()).toHaveAttribute("aria-pressed", "true");
    await page.getByTestId("object-select").last().press("Delete");
    await page.keyboard.press("Tab"); // from Cancel to Delete
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("object-item")).toHaveCount(1);
    await expect(first).toBeFocused(); // the last went: the one before
  });

  await test.step("a project row: Delete asks about that project; Cancel keeps it and the focus", async () => {
    await otherRow.focus();
    await page.keyboard.press("Delete");
    await expect(dialog).toContainText("Delete project?");
    await expect(dialog).toContainText('"kept by Cancel" with its points');
    await page.keyboard.press("Escape");
    await expect(dialog).toHaveCount(0);
    await expect(otherRow).toBeFocused();
    await expect(summary).toHaveText("1 positive, 0 negative on this frame");
  });

  await test.step("an object row: Delete asks about that object; Cancel keeps its points", async () => {
    await objectRow.focus();
    await page.keyboard.press("Delete");
    await expect(dialog).toContainText('Delete "Object 1"?');
    await page.keyboard.press("Escape");
    await expect(objectRow).toBeFocused();
    await expect(summary).toHaveText("1 positive, 0 negative on this frame");
  });

  await test.step("confirmed, the object goes and the focus moves to the list's add button", async () => {
    await page.keyboard.press("Delete");
    await page.keyboard.press("Tab"); // from Cancel to Delete
    await page.keyboard.press("Enter");
    await expect(objectRow).toHaveCount(0);
    await expect(page.getByTestId("object-add")).toBeFocused();
  });

  await test.step("confirmed on a project row, the project goes and the focus moves to the row now in its place", async () => {
    const rows = page.getByTestId("project-item");
    // Other specs' projects share the server: the list holds at least this spec's two.
    const ids = await rows.evaluateAll((r) => r.map((e) => (e as HTMLElement).dataset.projectId));
    expect(ids[0]).toBe(pid); // the newest first
    const open = (id: string | undefined) => page.locator(`[data-testid=project-item][data-project-id="${id}"] [data-testid=project-open]`);
    await open(pid).focus();
    await page.keyboard.press("Delete");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await expect(rows).toHaveCount(ids.length - 1);
    await expect(open(ids[1])).toBeFocused(); // the row now in its place
    await expect(page.getByTestId("editor")).toHaveCount(0); // the open one went, and the editor with it
    await page.keyboard.press("Enter"); // on the focused name: opens that project
    await expect(page.getByTestId("editor")).toHaveAttribute("data-project-id", ids[1]!);
    await expect(open(ids[1])).toHaveAttribute("aria-current", "true");
  });
  expect(errors).toEqual([]);
});

test("Delete on a focused toolbar or Results button keeps the frame's points; with the focus on the page it clears them", async ({ page }) => {
  await openWithPoint(page, "unused");
  const summary = page.getByTestId("frame-summary");
  for (const button of [page.getByTestId("preview-refresh"), page.getByRole("button", { name: "Reload results" }), page.getByTestId("overlay-mode-off")]) {
    await button.focus();
    await page.keyboard.press("Delete");
    await expect(button).toBeFocused();
    await expect(summary, (await button.getAttribute("data-testid")) ?? "Reload results").toHaveText("1 positive, 0 negative on this frame");
  }
  await page.evaluate(() => (document.activeElement as HTMLElement).blur());
  await page.keyboard.press("Delete");
  await expect(summary).toHaveText("no points on this frame");
});

test("renaming by keyboard gives the focus back to the Rename button, also after the server answered", async ({ page }) => {
  const pid = await openWithPoint(page, "another");
  const projectRow = page.locator(`[data-testid=project-item][data-project-id="${pid}"]`);
  for (const [row, kind] of [
    [projectRow, "project"],
    [page.getByTestId("object-item"), "object"],
  ] as const) {
    await test.step(kind, async () => {
      const button = row.getByTestId(`${kind}-rename`);
      await button.focus();
      const name = (await row.getByTestId(`${kind}-name`).textContent())!;
      await page.keyboard.press("Enter");
      const input = page.getByRole("textbox", { name: `Rename ${name}`, exact: true });
      await expect(input).toBeFocused();
      await expect(input).toHaveAttribute("data-testid", `${kind}-rename-input`);
      await page.keyboard.press("Escape");
      await expect(button).toBeFocused();

      await page.keyboard.press("Enter");
      await expect(input).toBeFocused();
      await page.keyboard.type(`${kind} renamed`);
      const saved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.ok());
      await page.keyboard.press("Enter");
      await saved;
      await expect(row.getByTestId(`${kind}-name`)).toContainText(`${kind} renamed`);
      await expect(button).toBeFocused();
    });
  }
});
