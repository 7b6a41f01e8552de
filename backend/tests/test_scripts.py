"""scripts/setup.sh (run by start.sh and test.sh) installs and builds the editor only when its
inputs changed. It runs on a copy of the script and a small frontend tree with `npm` and `uv`
stand-ins on PATH that log their calls: the real ones would reinstall the shared
node_modules, and what is checked here is the script's decision, not npm."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

LOGGER = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$CALLS"
if [ "$*" = "--prefix frontend run build" ]; then
  mkdir -p frontend/dist && echo built > frontend/dist/index.html
fi
if [ "$*" = "--prefix frontend ci --no-audit --no-fund" ]; then
  rm -rf frontend/node_modules && mkdir -p frontend/node_modules
fi
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "scripts" / "setup.sh", root / "scripts" / "setup.sh")
    front = root / "frontend"
    (front / "src" / "components").mkdir(parents=True)
    (front / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (front / "package.json").write_text('{"name": "x"}')
    (front / "index.html").write_text("<html></html>")
    (front / "vite.config.ts").write_text("export default {};")
    (front / "tsconfig.json").write_text("{}")
    (front / "src" / "main.tsx").write_text("console.log(1);")
    (front / "src" / "components" / "App.tsx").write_text("export {};")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("npm", "uv"):
        (bin_dir / tool).write_text(LOGGER)
        (bin_dir / tool).chmod(stat.S_IRWXU)
    return root


def setup(tree: Path) -> list[str]:
    """Run setup.sh once; the npm commands it ran."""
    calls = tree.parent / "calls.txt"
    calls.unlink(missing_ok=True)
    env = {**os.environ, "PATH": f"{tree.parent / 'bin'}:{os.environ['PATH']}", "CALLS": str(calls)}
    subprocess.run(["bash", "scripts/setup.sh"], cwd=tree, env=env, check=True)
    lines = calls.read_text().splitlines() if calls.exists() else []
    # The Python env is always synced (fast when current), its packages compiled to bytecode:
    # with PYTHONDONTWRITEBYTECODE set, nothing else writes the .pyc every process would use.
    assert "uv sync --frozen --compile-bytecode" in lines
    return [line.split()[3] for line in lines if line.startswith("npm ")]


def test_setup_skips_npm_ci_and_the_build_when_nothing_changed(tree: Path) -> None:
    assert setup(tree) == ["ci", "run"]  # a clean checkout: install and build
    assert setup(tree) == []  # nothing changed
    (tree / "frontend" / "src" / "components" / "App.tsx").write_text("export const a = 1;")
    assert setup(tree) == ["run"]  # a source changed: build only
    assert setup(tree) == []
    (tree / "frontend" / "src" / "New.tsx").write_text("export {};")
    assert setup(tree) == ["run"]  # a new file
    (tree / "frontend" / "index.html").write_text("<html><body></body></html>")
    assert setup(tree) == ["run"]
    (tree / "frontend" / "vite.config.ts").write_text("export default { base: './' };")
    assert setup(tree) == ["run"]
    (tree / "frontend" / "package-lock.json").write_text('{"lockfileVersion": 3, "x": 1}')
    assert setup(tree) == ["ci", "run"]  # new dependencies: install and build
    shutil.rmtree(tree / "frontend" / "dist")
    assert setup(tree) == ["run"]  # the build was deleted
    shutil.rmtree(tree / "frontend" / "node_modules")
    assert setup(tree) == ["ci", "run"]  # the install was deleted
    assert setup(tree) == []
