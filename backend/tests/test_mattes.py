"""The stored form of a frame's mattes: every object's own, 16-bit; older jobs' 8-bit union."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vidmatte.jobs.mattes import decode_mattes, encode_mattes, layer_names


def test_each_object_comes_back_at_16_bit_precision() -> None:
    rng = np.random.default_rng(0)
    alphas = [rng.random((5, 7), np.float32) for _ in range(3)]
    png = encode_mattes(alphas)
    assert png[24] == 16  # IHDR bit depth: 16
    decoded = decode_mattes(png, 5)
    assert decoded.shape == (3, 5, 7) and decoded.dtype == np.float32
    assert np.abs(decoded - np.stack(alphas)).max() <= 0.5 / 65535 + 1e-7


def test_an_older_jobs_8_bit_union_reads_as_one_matte() -> None:
    union = np.array([[0, 128, 255]], np.uint8)
    buf = io.BytesIO()
    Image.fromarray(union).save(buf, "PNG")
    decoded = decode_mattes(buf.getvalue(), 1)
    assert decoded.shape == (1, 1, 3)
    np.testing.assert_allclose(decoded[0], union / 255)
    with pytest.raises(ValueError, match="not a stack of 2"):
        decode_mattes(encode_mattes([np.zeros((3, 3))]), 2)


def test_layer_names_are_safe_and_distinct() -> None:
    names = layer_names(
        [(1, "Hair"), (2, "Hair"), (3, "../Été x"), (4, None), (5, "union"), (6, "///")]
    )
    assert names == {
        1: "Hair-1",
        2: "Hair-2",
        3: "Ete_x",
        4: "object-4",
        5: "union-5",
        6: "object-6",
    }


def test_layer_names_are_short_and_distinct() -> None:
    """An object's name goes into folder and file names (`alpha/<object>/001001.png`): cut to
    40 characters, so an export's paths fit Windows' 259 (media/test_export.py), and told
    apart as any names are where the cut leaves two alike."""
    names = layer_names([(1, "a" * 100), (2, "a" * 40 + "b"), (3, "c" * 60)])
    assert names == {1: "a" * 40 + "-1", 2: "a" * 40 + "-2", 3: "c" * 40}


def test_layer_names_differ_in_more_than_case() -> None:
    """`Cat` and `cat`, or `Union` beside `union`, overwrote each other once unzipped on macOS
    or Windows, whose file systems ignore case."""
    names = layer_names([(1, "Cat"), (2, "cat"), (3, "Union"), (4, "dog")])
    assert names == {1: "Cat-1", 2: "cat-2", 3: "Union-3", 4: "dog"}


def test_layer_names_are_never_a_windows_device() -> None:
    """An object called `CON`, `nul`, `Aux.txt` or `LPT9.mov` gave the folder `alpha/CON/`,
    which Windows cannot make (its device names, with any extension, in any case): the archive
    failed to unzip there, as did `vidmatte matte`'s output."""
    names = layer_names(
        [(1, "CON"), (2, "nul"), (3, "Aux.txt"), (4, "LPT9.mov"), (5, "com1"), (6, "CONSOLE")]
    )
    assert names == {
        1: "CON-1",
        2: "nul-2",
        3: "Aux-3.txt",
        4: "LPT9-4.mov",
        5: "com1-5",
        6: "CONSOLE",
    }
