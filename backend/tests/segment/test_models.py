"""SAM2 registry: real checkpoint save/load, the downloader's checksum, missing weights."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import sam2_shaped
from vidmatte.media.video import VideoReader, probe
from vidmatte.segment.models import (
    CheckpointDamaged,
    CheckpointMissing,
    ChecksumMismatch,
    build_predictor,
    download,
    save_checkpoint,
)
from vidmatte.segment.predictor import CompiledMattingVideoPredictor
from vidmatte.segment.session import Segmenter
from vidmatte.store import Point


def test_saved_test_tiny_checkpoint_loads_back(tmp_path: Path, clip: Path) -> None:
    """Through the same strict `{"model": state_dict}` path as the official checkpoints."""
    original = build_predictor("test-tiny", tmp_path)
    with torch.no_grad():  # make the weights differ from a fresh seeded build
        for p in original.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    path = tmp_path / "tiny.pt"
    save_checkpoint(original, path)
    loaded = build_predictor("test-tiny", tmp_path, checkpoint=path)
    for (name, a), (_, b) in zip(
        original.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    info, pts = probe(clip)
    masks = []
    for predictor in (original, loaded):
        reader = VideoReader(clip, pts, 0)
        segmenter = Segmenter(predictor, "test-tiny")
        masks.append(
            segmenter.preview(
                "k", reader, info.height, info.width, 2, {1: [Point(30, 30, "positive")]}
            )[1]
        )
    np.testing.assert_array_equal(masks[0], masks[1])


def test_compile_takes_sam2s_compiled_path(tmp_path: Path) -> None:
    """--compile builds the predictor whose SAM2 parts run through torch.compile, with the same
    weights; compiling happens at the first frame (minutes on the CPU, so the compiled run
    itself is checked by bench/gpu.sh on a GPU, where it is meant to run)."""
    plain = build_predictor("test-tiny", tmp_path)
    compiled = build_predictor("test-tiny", tmp_path, compile=True)
    assert isinstance(compiled, CompiledMattingVideoPredictor)
    assert not isinstance(plain, CompiledMattingVideoPredictor)
    for part in ("image_encoder", "memory_encoder", "memory_attention", "sam_mask_decoder"):
        assert hasattr(getattr(compiled, part).forward, "_torchdynamo_orig_callable"), part
        assert not hasattr(getattr(plain, part).forward, "_torchdynamo_orig_callable"), part
    for (name, a), (_, b) in zip(
        plain.state_dict().items(), compiled.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_wrong_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.pt"
    torch.save({"model": {"not": torch.zeros(1)}}, path)
    with pytest.raises(CheckpointDamaged, match=r"is not the SAM2\.1 test-tiny checkpoint"):
        build_predictor("test-tiny", tmp_path, checkpoint=path)


def test_missing_checkpoint_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(CheckpointMissing) as error:
        build_predictor("small", tmp_path / "none")
    assert "vidmatte weights download small" in str(error.value)


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown SAM2 model 'huge'"):
        build_predictor("huge", tmp_path)


def test_download_verifies_checksum(tmp_path: Path, file_server: tuple[str, bytes]) -> None:
    url, payload = file_server
    good = hashlib.sha256(payload).hexdigest()
    seen: list[tuple[int, int]] = []
    path = download(
        "tiny",
        tmp_path / "ckpt",
        url=url,
        sha256=good,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert path.read_bytes() == payload and path.name == "sam2.1_hiera_tiny.pt"
    assert seen[-1] == (len(payload), len(payload)) and len(seen) > 1
    assert (path.parent / "sam2.1_hiera_tiny.pt.sha256").read_text().strip() == good

    path.unlink()
    with pytest.raises(ChecksumMismatch, match="checksum mismatch"):
        download("tiny", tmp_path / "ckpt", url=url, sha256="0" * 64)
    assert list((tmp_path / "ckpt").glob("sam2.1_hiera_tiny.pt*")) == [
        tmp_path / "ckpt" / "sam2.1_hiera_tiny.pt.sha256"
    ]  # nothing half-written kept


def test_download_from_a_local_mirror(tmp_path: Path, file_server) -> None:
    """Air-gapped machines: a folder with the official file names, or the file itself."""
    _, payload = file_server
    mirror = tmp_path / "www"
    for source, folder in (
        (mirror, tmp_path / "a"),
        (mirror / "sam2.1_hiera_tiny.pt", tmp_path / "b"),
    ):
        path = download("tiny", folder, mirror=source, sha256=hashlib.sha256(payload).hexdigest())
        assert path.read_bytes() == payload
        assert sorted(p.name for p in folder.iterdir()) == [
            "sam2.1_hiera_tiny.pt",
            "sam2.1_hiera_tiny.pt.sha256",
        ]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/sam2.1_hiera_tiny.pt",
        "file:///etc/passwd",
        "ftp://127.0.0.1/x.pt",
        "/etc/passwd",
    ],
)
def test_download_is_https_only(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="https only; for a local copy use --mirror"):
        download("tiny", tmp_path / "ckpt", url=url)
    assert not (tmp_path / "ckpt").exists()  # a refused URL made no folder


def test_a_failed_download_leaves_no_part_file(tmp_path: Path, file_server) -> None:
    url, _ = file_server

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt  # Ctrl+C half-way

    with pytest.raises(KeyboardInterrupt):
        download("tiny", tmp_path, url=url, progress=interrupt)
    with pytest.raises(FileNotFoundError):
        download("tiny", tmp_path, mirror=tmp_path / "nowhere")
    assert list(tmp_path.glob("sam2.1_hiera_tiny.pt*")) == []


def test_damaged_checkpoint_is_caught_on_load(tmp_path: Path, file_server) -> None:
    url, payload = file_server
    path = download("tiny", tmp_path, url=url)
    path.write_bytes(payload[:-1] + b"x")
    with pytest.raises(ChecksumMismatch, match="recorded SHA-256"):
        build_predictor("tiny", tmp_path)


@pytest.mark.parametrize("wrong", ["notes", "small", "html"])
def test_a_download_that_is_not_the_checkpoint_keeps_the_one_there(
    tmp_path: Path, file_server: tuple[str, bytes], wrong: str
) -> None:
    """A --mirror naming the wrong file (notes, another size's checkpoint) or a URL answering
    an error page replaced a good checkpoint, its digest recorded as if verified: the next
    start then failed on 'damaged' weights the user had before."""
    url, payload = file_server
    folder = tmp_path / "ckpt"
    good = download("tiny", folder, url=url)
    source = tmp_path / "usb" / "sam2.1_hiera_tiny.pt"
    source.parent.mkdir()
    if wrong == "small":
        sam2_shaped(source, width=96, blocks=16)
        why = (
            f"{source} is not the SAM2.1 tiny checkpoint: its image encoder is 96 wide with 16 "
            "blocks, tiny's is 96 wide with 12 blocks; "
        )
    else:
        source.write_text("<html>Not found</html>" if wrong == "html" else "download later")
        why = f"{source} is not a SAM2 checkpoint; "
    with pytest.raises(CheckpointDamaged) as error:
        download("tiny", folder, mirror=source)
    assert (
        str(error.value) == why + f"nothing written to {folder}, any {good.name} already there kept"
    )
    assert good.read_bytes() == payload and source.is_file()  # the mirror's file is the user's
    assert sorted(p.name for p in folder.iterdir()) == [good.name, good.name + ".sha256"]
    assert (folder / (good.name + ".sha256")).read_text().strip() == hashlib.sha256(
        payload
    ).hexdigest()
