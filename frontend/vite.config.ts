/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

// The backend (`vidmatte serve`) serves dist/ at `/` and the API under `/api`.
// In development the Vite server proxies `/api` to it, keeping the browser's Host so that the
// backend's Origin check sees one origin (run the backend with --no-auth, or open the backend's
// printed URL once so the browser holds its cookie).
const backend = process.env.VIDMATTE_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [solid()],
  server: {
    port: 5173,
    proxy: {
      "/api": { target: backend, changeOrigin: false },
    },
  },
  preview: {
    proxy: {
      "/api": { target: backend, changeOrigin: false },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    target: "es2022",
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    setupFiles: ["src/test/setup.ts"],
  },
});
