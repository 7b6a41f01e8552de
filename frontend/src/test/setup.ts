// Test setup: jsdom lacks a few browser APIs the components touch.
if (typeof URL.createObjectURL !== "function") {
  URL.createObjectURL = () => "blob:test";
  URL.revokeObjectURL = () => undefined;
}

import { cleanup } from "@solidjs/testing-library";
import { afterEach } from "vitest";

afterEach(() => cleanup());
