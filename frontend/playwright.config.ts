// End-to-end tests: Debian's Chromium (never a downloaded browser) against the real
// `vidmatte serve --sam2 test-tiny`, which serves the built editor (run `npm run build` first;
// `npm run e2e` does both).
import { defineConfig } from "@playwright/test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "..");
// Chosen once, inherited by the workers through the environment.
process.env.VIDMATTE_E2E_PORT ??= String(20000 + Math.floor(Math.random() * 10000));
process.env.VIDMATTE_E2E_DATA ??= mkdtempSync(join(tmpdir(), "vidmatte-e2e-"));
const port = Number(process.env.VIDMATTE_E2E_PORT);
/** The access token the e2e server asks for (`vidmatte serve --token`). */
export const token = (process.env.VIDMATTE_E2E_TOKEN ??= `e2e-${Math.random().toString(36).slice(2)}`);

const localBin = join(repo, ".venv", "bin", "vidmatte");
const serve = process.env.VIDMATTE_SERVE ?? (existsSync(localBin) ? localBin : "uv run vidmatte");

export default defineConfig({
  testDir: "e2e",
  testMatch: /.*\.spec\.ts/,
  timeout: 300_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
  outputDir: "e2e/.results",
  globalTeardown: "./e2e/teardown.ts",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1440, height: 860 },
    acceptDownloads: true,
    trace: "retain-on-failure",
    // Signed in, as after opening the URL `serve` prints: the session cookie it sets
    // (one name per port). e2e/token.spec.ts starts without it.
    storageState: {
      cookies: [
        { name: `vidmatte-token-${port}`, value: token, domain: "127.0.0.1", path: "/", expires: -1, httpOnly: true, secure: false, sameSite: "Strict" },
      ],
      origins: [],
    },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  webServer: {
    command: `${serve} serve --port ${port} --sam2 test-tiny --data-dir ${process.env.VIDMATTE_E2E_DATA} --token ${token}`,
    cwd: repo,
    url: `http://127.0.0.1:${port}/api/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
  },
});
