"""The three notebooks run top to bottom on tiny settings (VIDMATTE_NB_TINY=1).

They share one work folder, in the order a user runs them, so later ones reuse the toy datasets.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebooks")


@pytest.mark.parametrize("name", ["dataset.ipynb", "train.ipynb", "matting.ipynb"])
def test_notebook_runs(name: str, work: Path, monkeypatch) -> None:
    monkeypatch.setenv("VIDMATTE_NB_TINY", "1")
    monkeypatch.setenv("VIDMATTE_NB_WORK", str(work))
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        book, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    ).execute()
