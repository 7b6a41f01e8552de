"""How a video's YUV is read where its tags leave the matrix out (guessed from the primaries
and transfer they do state), mis-tag it, or name one FFmpeg cannot apply (refused at upload)."""

from __future__ import annotations

from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace

from tests.synth import rgb_picture, write_clip
from vidmatte.media.video import MediaError, VideoReader, _rgb, probe

PQ, HLG = 16, 18


def write_untagged_matrix(
    path: Path, rgb: np.ndarray, primaries: int, transfer: int, matrix: Colorspace
) -> None:
    """A lossless 10-bit 4:2:0 clip of `rgb` (uint8, flat 8x8 blocks: chroma subsampling is
    exact) made YUV with `matrix`, tagged with `primaries` and `transfer` but no matrix."""
    picture = rgb_picture(rgb.astype(np.uint16) * 257, "yuv420p10le", matrix)
    picture.colorspace = 2  # AVCOL_SPC_UNSPECIFIED: the stream states no matrix
    picture.color_primaries, picture.color_trc = primaries, transfer
    write_clip(path, picture, color_primaries=primaries, color_trc=transfer)


def saturated_blocks(height: int, width: int) -> np.ndarray:
    """Flat 8x8 blocks of random colours, most of them saturated (where matrices differ)."""
    blocks = np.random.default_rng(1).integers(0, 256, (height // 8, width // 8, 3), np.uint8)
    return np.repeat(np.repeat(blocks, 8, 0), 8, 1)


@pytest.mark.parametrize(
    "primaries,transfer,size",
    [
        (2, PQ, (64, 48)),  # PQ whose primaries are untagged too: SD, guessed BT.601 before
        (9, HLG, (1280, 720)),  # an HLG BT.2020 phone clip: HD, guessed BT.709 before
        (9, 1, (64, 48)),  # 10-bit SDR in BT.2020 primaries
        (12, PQ, (1280, 720)),  # PQ P3-D65 (an HDR master)
    ],
)
def test_an_untagged_matrix_of_hdr_or_bt2020_colour_is_read_as_bt2020(
    tmp_path: Path, primaries: int, transfer: int, size: tuple[int, int]
) -> None:
    """HDR (PQ or HLG) and BT.2020 colour is made YUV with BT.2020's matrix (non-constant
    luminance, ITU-R BT.2100): where the file does not say so, the size's guess (BT.709 or
    BT.601) read it, saturated colours up to tens of levels off (in the editor, the models
    and every export)."""
    width, height = size
    rgb = saturated_blocks(height, width)
    path = tmp_path / "untagged.mkv"
    write_untagged_matrix(path, rgb, primaries, transfer, Colorspace.BT2020)
    info, pts = probe(path)
    assert (info.primaries, info.transfer) == (primaries, transfer)
    got = VideoReader(path, pts, 0, tone_map=False).frame(0).astype(int)
    # 10-bit limited-range YUV there and back, rounded to 8 bits: within a level or two
    assert np.abs(got - rgb)[4::8, 4::8].max() <= 2


@pytest.mark.parametrize("size,matrix", [((1280, 720), "ITU709"), ((64, 48), "ITU601")])
def test_an_untagged_matrix_of_sdr_bt709_colour_is_still_guessed_by_size(
    tmp_path: Path, size: tuple[int, int], matrix: str
) -> None:
    """SDR colour in BT.709 primaries (or none stated) keeps the players' size rule."""
    width, height = size
    rgb = saturated_blocks(height, width)
    path = tmp_path / "untagged.mkv"
    write_untagged_matrix(path, rgb, 1, 1, getattr(Colorspace, matrix))
    _, pts = probe(path)
    got = VideoReader(path, pts, 0, tone_map=False).frame(0).astype(int)
    assert np.abs(got - rgb)[4::8, 4::8].max() <= 2


def write_tagged_matrix(path: Path, matrix_code: int) -> None:
    """A lossless 8-bit 4:2:0 clip whose stream tags YUV matrix `matrix_code` (H.273)."""
    picture = av.VideoFrame.from_ndarray(saturated_blocks(48, 64), format="rgb24")
    write_clip(path, picture.reformat(format="yuv420p"), colorspace=matrix_code)


@pytest.mark.parametrize(
    "code,name",
    [(8, "YCgCo"), (10, "BT.2020 constant luminance"), (14, "ICtCp")],
)
def test_a_yuv_matrix_ffmpeg_cannot_convert_is_refused_at_upload_naming_it(
    tmp_path: Path, code: int, name: str
) -> None:
    """swscale turns no YCgCo, BT.2020 constant luminance or ICtCp YUV into RGB: such a video
    was taken in, and then every frame the editor, a job or an export read failed with
    "[Errno 95] Operation not supported". It is refused when it is probed (the upload's 422),
    naming the matrix and what to do."""
    path = tmp_path / "odd_matrix.mkv"
    write_tagged_matrix(path, code)
    with pytest.raises(MediaError) as refused:
        probe(path)
    assert str(refused.value) == (
        f"the video's YUV matrix is {name} (ITU-T H.273 matrix coefficients {code}), which "
        "FFmpeg cannot turn into RGB: convert it to a BT.709 matrix first (FFmpeg's zscale "
        "filter knows most)"
    )


def test_a_reserved_matrix_code_is_read_as_an_untagged_one() -> None:
    """H.273 reserves matrix code 3 (a decoder takes it as unspecified): swscale refused the
    frame ("Operation not supported"); it is read as an untagged one, by the size's guess."""
    rgb = saturated_blocks(48, 64)
    picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv420p",
        src_color_range=ColorRange.JPEG,
        dst_colorspace=Colorspace.ITU601,
        dst_color_range=ColorRange.MPEG,
    )
    picture.colorspace = 3
    assert np.abs(_rgb(picture).astype(int) - rgb)[4::8, 4::8].max() <= 3


def test_an_upload_in_a_matrix_ffmpeg_cannot_convert_gets_a_422_and_leaves_nothing(
    api: httpx.Client, tmp_path: Path
) -> None:
    """It was taken in as a project whose every frame then failed to read."""
    path = tmp_path / "ycgco.mkv"
    write_tagged_matrix(path, 8)
    before = api.get("/api/projects").json()
    with path.open("rb") as file:
        response = api.post("/api/projects", files={"file": (path.name, file, "video/x-matroska")})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        "cannot use 'ycgco.mkv': the video's YUV matrix is YCgCo (ITU-T H.273 matrix "
        "coefficients 8), which FFmpeg cannot turn into RGB: convert it to a BT.709 matrix "
        "first (FFmpeg's zscale filter knows most)"
    )
    assert api.get("/api/projects").json() == before


def test_yuv_tagged_as_rgb_is_read_as_an_untagged_one(tmp_path: Path) -> None:
    """Matrix code 0 says the planes are G, B, R, which YUV 4:2:0 cannot be (H.264 allows it
    for 4:4:4 only, where FFmpeg decodes RGB): a mis-tag, which players read as an untagged
    matrix (mpv guesses). swscale read it as BT.601: an HD clip's colours came out up to 35
    levels off; it is read as BT.709, the size's guess."""
    rgb = saturated_blocks(720, 1280)
    path = tmp_path / "gbr_tag.mkv"
    picture = rgb_picture(rgb, "yuv420p", Colorspace.ITU709)
    write_clip(path, picture, colorspace=0)  # AVCOL_SPC_RGB
    _, pts = probe(path)
    got = VideoReader(path, pts, 0).frame(0).astype(int)
    assert np.abs(got - rgb)[4::8, 4::8].max() <= 3
