// Names edited in place, in Chromium against the real server: Escape cancels (the browser
// blurs the input it removes, which must not save), Enter and leaving the field save once, and
// the field stops at the server's longest name.
import { expect, test, type Page } from "@playwright/test";
import { clickVideo, FIXTURE } from "./video";

type Kind = "object" | "project";

/** Press the first `kind`'s Rename button (it shows on hover). */
async function openRename(page: Page, kind: Kind): Promise<void> {
  await page.getByTestId(`${kind}-item`).first().hover();
  await page.getByTestId(`${kind}-rename`).first().click();
}

/** Type `text` into `kind`'s rename field and end the edit with Escape, Enter or a click elsewhere. */
async function rename(page: Page, kind: Kind, text: string, end: "Escape" | "Enter" | "blur"): Promise<void> {
  await openRename(page, kind);
  const input = page.getByTestId(`${kind}-rename-input`);
  await expect(input).toBeFocused();
  await input.fill(text);
  if (end === "blur") await page.getByTestId("frame-number").click();
  else await input.press(end);
  await expect(input).toHaveCount(0);
}

test("rename in place: Escape keeps the old name, Enter and leaving the field each save once", async ({ page }) => {
  const patches: string[] = [];
  page.on("request", (r) => r.method() === "PATCH" && patches.push(r.postData() ?? ""));
  await page.goto("/");
  await page.getByTestId("upload-input").setInputFiles(FIXTURE);
  await clickVideo(page, 96, 90); // makes "Object 1"
  await expect(page.getByTestId("object-name")).toHaveText("Object 1");
  const projectName = page.locator("[data-testid=project-open][aria-current=true] [data-testid=project-name]");

  for (const [kind, name, limit] of [
    ["object", page.getByTestId("object-name"), 100],
    ["project", projectName, 200],
  ] as const) {
    await test.step(`${kind}: Escape cancels`, async () => {
      const before = (await name.textContent())!;
      await rename(page, kind, "typed, then cancelled", "Escape");
      await expect(name).toHaveText(before);
    });
    await test.step(`${kind}: Enter saves once`, async () => {
      const saved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.ok());
      await rename(page, kind, `${kind} by Enter`, "Enter");
      await saved;
      await expect(name).toHaveText(`${kind} by Enter`);
    });
    await test.step(`${kind}: leaving the field saves once`, async () => {
      const saved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.ok());
      await rename(page, kind, `${kind} by blur`, "blur");
      await saved;
      await expect(name).toHaveText(`${kind} by blur`);
    });
    await test.step(`${kind}: the field takes at most the server's ${limit} characters`, async () => {
      await openRename(page, kind);
      const input = page.getByTestId(`${kind}-rename-input`);
      await input.fill("");
      await input.pressSequentially("x".repeat(limit + 5));
      await expect(input).toHaveValue("x".repeat(limit));
      await input.press("Escape");
    });
  }
  expect(patches.map((body) => JSON.parse(body).name)).toEqual(["object by Enter", "object by blur", "project by Enter", "project by blur"]);
});
