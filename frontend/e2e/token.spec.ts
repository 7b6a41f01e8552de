// The access token the way a user meets it: the URL `vidmatte serve` printed, and the bare URL
// with the token prompt. These tests start without the session cookie the other specs get.
import { expect, test } from "@playwright/test";

test.use({ storageState: { cookies: [], origins: [] } });

const token = process.env.VIDMATTE_E2E_TOKEN!;

test("the printed URL opens the editor and leaves no token in the address bar", async ({ page, context }) => {
  await page.goto(`/?token=${token}`);
  await expect(page.getByTestId("health")).toBeVisible(); // only a signed-in editor sees it
  await expect(page.getByTestId("token-prompt")).toHaveCount(0);
  expect(new URL(page.url()).search).toBe("");
  expect(page.url()).not.toContain(token);
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ value: token, httpOnly: true, sameSite: "Strict" });
  expect(await page.evaluate(() => document.cookie)).toBe(""); // scripts cannot read it
});

test("the bare URL asks for the token, refuses a wrong one and opens with the right one", async ({ page }) => {
  await page.goto("/");
  const prompt = page.getByTestId("token-prompt");
  await expect(prompt).toBeVisible();
  await expect(prompt).toContainText("vidmatte token");
  await expect(prompt).toContainText("--token"); // a server given its token prints none of its own
  await expect(page.getByTestId("health")).toHaveCount(0);

  await page.getByTestId("token-input").fill("not-the-token");
  await page.getByTestId("token-submit").click();
  await expect(page.getByTestId("token-error")).toContainText("not this server's token");
  await expect(page.getByTestId("token-error")).toContainText("--token");
  await expect(prompt).toBeVisible();

  await page.getByTestId("token-input").fill(token);
  await page.getByTestId("token-submit").click();
  await expect(prompt).toHaveCount(0);
  await expect(page.getByTestId("health")).toBeVisible();
  expect(page.url()).not.toContain(token);
  await page.reload(); // the session cookie keeps it signed in
  await expect(page.getByTestId("health")).toBeVisible();
  await expect(prompt).toHaveCount(0);
});
