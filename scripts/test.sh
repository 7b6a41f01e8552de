#!/usr/bin/env bash
# Set up and run every test: front-end unit tests, then pytest (API over HTTP, SAM2, head,
# exports, Bruno collection, headless Chromium end-to-end, notebooks).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
uv sync --frozen --extra ray  # the Ray runner and its tests (issue 16): an optional extra
if [ -f rest/package-lock.json ]; then
  npm --prefix rest ci --no-audit --no-fund
fi
if ! command -v chromium >/dev/null; then  # Debian's browser; never a downloaded one
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
uv run ruff check backend bench
uv run ruff format --check backend bench
uv run pytest "$@"
if [ -f frontend/package-lock.json ]; then
  npm --prefix frontend test
  # Playwright from Node drives Debian's /usr/bin/chromium against a live test-tiny server
  # (the README's screenshots are rewritten only by `npm --prefix frontend run screenshots`).
  npm --prefix frontend run e2e
fi
