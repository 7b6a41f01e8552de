#!/usr/bin/env bash
# Install everything vidmatte needs on a fresh machine: Python env (uv), the editor's build.
# Sourced by start.sh and test.sh so both set up the same way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export UV_PYTHON_DOWNLOADS=never  # use the machine's Python 3.11
command -v uv >/dev/null || python3 -m pip install --quiet uv
# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as on CI) nothing else ever writes the
# .pyc files, and every Python process then compiles torch again: ~3 s of CPU each.
uv sync --frozen --compile-bytecode  # fast when nothing changed

# `npm ci` and the build take a minute: each runs only when its inputs changed since it last
# succeeded. The hashes live in node_modules, so deleting it (or dist) redoes the work.
hash_of() {  # names and contents of the given files and folders
  find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
if [ -f frontend/package-lock.json ]; then
  stamps=frontend/node_modules/.vidmatte
  installed=$(hash_of frontend/package.json frontend/package-lock.json)
  if [ "$(cat "$stamps/ci" 2>/dev/null)" != "$installed" ]; then
    npm --prefix frontend ci --no-audit --no-fund
    mkdir -p "$stamps" && echo "$installed" >"$stamps/ci"
  fi
  sources=$(hash_of frontend/package.json frontend/package-lock.json frontend/index.html \
    frontend/tsconfig.json frontend/vite.config.ts frontend/src)
  if [ ! -f frontend/dist/index.html ] || [ "$(cat "$stamps/build" 2>/dev/null)" != "$sources" ]; then
    npm --prefix frontend run build
    echo "$sources" >"$stamps/build"
  fi
fi
