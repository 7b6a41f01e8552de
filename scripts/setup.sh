#!/usr/bin/env bash
# Install everything vidmatte needs on a fresh machine: Python env (uv), the editor's build.
# Sourced by start.sh and test.sh so both set up the same way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export UV_PYTHON_DOWNLOADS=never  # use the machine's Python 3.11
command -v uv >/dev/null || python3 -m pip install --quiet uv
uv sync --frozen
if [ -f frontend/package-lock.json ]; then
  npm --prefix frontend ci --no-audit --no-fund
  npm --prefix frontend run build
fi
