#!/usr/bin/env bash
# Set up and run every test: front-end unit tests, then pytest (API over HTTP, SAM2, head,
# exports, Bruno collection, headless Chromium end-to-end, notebooks).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
uv sync --frozen --compile-bytecode --extra ray  # the Ray runner and its tests (issue 16): an optional extra
if [ -f rest/package-lock.json ]; then
  npm --prefix rest ci --no-audit --no-fund
fi
# Debian's browser, never a downloaded one; Info-ZIP's unzip reads the exported zips as users' do
if ! command -v chromium >/dev/null || ! command -v unzip >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium unzip >/dev/null
fi
uv run ruff check backend bench
uv run ruff format --check backend bench
# The front end's tests run beside pytest, in a process group of their own (ended with the
# script): both wait on servers and subprocesses much of the time, and one after the other
# they overran CI's 45 minutes. Their output follows pytest's.
front=""
front_log=$(mktemp)
trap '[ -n "$front" ] && kill -- "-$front" 2>/dev/null; rm -f "$front_log"' EXIT
if [ -f frontend/package-lock.json ]; then
  # Playwright from Node drives Debian's /usr/bin/chromium against a live test-tiny server
  # (the README's screenshots are rewritten only by `npm --prefix frontend run screenshots`).
  # The editor setup.sh built is the one tested: `npm run e2e` would build it again, emptying
  # frontend/dist while pytest asks the server for `/` (a 503 there failed CI).
  setsid bash -c 'npm --prefix frontend test && cd frontend && npx playwright test' >"$front_log" 2>&1 &
  front=$!
fi
status=0
uv run pytest "$@" || status=$?
if [ -n "$front" ]; then
  wait "$front" || status=$?
  front=""
  cat "$front_log"
fi
exit "$status"
