// Remove the temporary data directory the e2e server used (only one we created).
import { rmSync } from "node:fs";
import { basename } from "node:path";

export default function teardown(): void {
  const dir = process.env.VIDMATTE_E2E_DATA;
  if (dir && basename(dir).startsWith("vidmatte-e2e-")) rmSync(dir, { recursive: true, force: true });
}
