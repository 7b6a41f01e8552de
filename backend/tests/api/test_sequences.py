"""Image sequences (a zip of numbered PNG, JPEG, TIFF, DPX or EXR images) uploaded as a
project's video, over real HTTP to the live server."""

from __future__ import annotations

import io
import struct
import tarfile
import tempfile
import zipfile
import zlib
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import OpenEXR
import pytest
from PIL import Image

from tests import waiting
from tests.api.test_malformed_media import data_files
from tests.media.test_images import tiff_of
from tests.server import LiveServer
from tests.synth import frame_and_alpha
from vidmatte.config import Settings
from vidmatte.media.sequence import find_sequence, frame_rate, sequence_to_video
from vidmatte.media.video import MediaError, VideoReader, probe

W, H = 48, 32


def png(image: np.ndarray, codec: str = "png") -> bytes:
    """8-bit RGB or RGBA via Pillow; 16-bit RGB (uint16) via FFmpeg's PNG (or TIFF) encoder:
    Pillow reads 16-bit colour as 8-bit."""
    if image.dtype == np.uint8:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="PNG")
        return buf.getvalue()
    buf = io.BytesIO()
    with av.open(buf, "w", format="image2pipe") as container:
        stream = container.add_stream(codec)
        stream.width, stream.height = image.shape[1], image.shape[0]
        stream.pix_fmt = "rgb48be" if codec == "png" else "rgb48le"
        container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb48le")))
        container.mux(stream.encode(None))
    return buf.getvalue()


def jpeg(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def exr(channels: dict[str, np.ndarray], **header: object) -> bytes:
    """An OpenEXR image (ZIP scanlines) of `channels` ({"RGB": HxWx3, ...}): the library
    writes files only."""
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **header}
    with tempfile.TemporaryDirectory() as folder, OpenEXR.File(header, channels) as image:
        image.write(f"{folder}/image.exr")
        with open(f"{folder}/image.exr", "rb") as file:
            return file.read()


def exr_timecode(hours: int, minutes: int, seconds: int, frame: int) -> OpenEXR.TimeCode:
    code = OpenEXR.TimeCode()
    code.hours, code.minutes, code.seconds, code.frame = hours, minutes, seconds, frame
    return code


def dpx10(image: np.ndarray, timecode: int | None = None, rate: float = 0.0) -> bytes:
    """A 10-bit DPX of a 16-bit RGB image by FFmpeg's encoder, whose header ends before the
    film and television headers; with `timecode` (BCD, hours first) the image data is moved
    to byte 2048, as cameras and scanners write it, the timecode put at 1920 and the frame
    rate into the film header."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="image2pipe") as container:
        stream = container.add_stream("dpx")
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "gbrp10le"
        frame = av.VideoFrame.from_ndarray(image, format="rgb48le").reformat(format="gbrp10le")
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    data = bytearray(buf.getvalue())
    if timecode is None:
        return bytes(data)
    endian = {b"SDPX": ">", b"XPDS": "<"}[bytes(data[:4])]
    (offset,) = struct.unpack_from(endian + "I", data, 4)
    data[offset:offset] = bytes(2048 - offset)
    for at, value in ((4, 2048), (16, len(data)), (808, 2048), (1920, timecode)):
        struct.pack_into(endian + "I", data, at, value)  # image, file size, element, timecode
    struct.pack_into(endian + "f", data, 1724, rate)
    return bytes(data)


def frames(n: int, width: int = W, height: int = H) -> list[np.ndarray]:
    return [frame_and_alpha(i, height, width)[0] for i in range(n)]


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def tarred(members: dict[str, bytes]) -> bytes:
    """An uncompressed tar, as the editor packs a dropped folder."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def post(api: httpx.Client, data: bytes, filename: str = "plates.zip", **fields: str):
    files = {"file": (filename, data, "application/zip")}
    return api.post("/api/projects", files=files, data=fields)


def stored_frames(server: LiveServer, project: dict, fmt: str) -> list[np.ndarray]:
    """The frames of the video the server stored, decoded as `fmt`."""
    source = next((server.data_dir / "projects" / project["id"]).glob("source.*"))
    with av.open(str(source)) as container:
        return [f.to_ndarray(format=fmt) for f in container.decode(video=0)]


def test_a_png_sequence_becomes_the_video_pixel_for_pixel(
    server: LiveServer, api: httpx.Client
) -> None:
    """RGBA images: the alpha is dropped, the colours kept exactly; junk beside the
    sequence (macOS resource forks, Thumbs.db, a hidden file) is passed over."""
    images = frames(5)
    rgba = [np.dstack([im, np.full((H, W), 128, np.uint8)]) for im in images]
    members = {f"shot/shot.{1001 + i}.png": png(im) for i, im in enumerate(rgba)}
    members |= {"__MACOSX/shot/._shot.1001.png": b"\0" * 80, "shot/Thumbs.db": b"x", ".x": b""}
    response = post(api, zipped(members), fps="12")
    assert response.status_code == 201, response.text
    project = response.json()
    assert project["name"] == "shot"
    assert project["filename"] == "plates.zip"
    video = project["video"]
    assert (video["width"], video["height"], video["frame_count"]) == (W, H, 5)
    assert video["fps"] == 12
    assert video["codec"] == "ffv1"
    assert video["first_number"] == 1001  # exports are numbered as the images were
    decoded = stored_frames(server, project, "rgb24")
    assert all(np.array_equal(a, b) for a, b in zip(decoded, images, strict=True))
    # The editor's frames come from that video: frame 3 (a JPEG) is closest to image 1004.
    answer = api.get(f"/api/projects/{project['id']}/frames/3")
    shown = np.asarray(Image.open(io.BytesIO(answer.content))).astype(int)
    assert np.argmin([np.abs(shown - im).mean() for im in images]) == 3
    # Uploaded again, it is told apart; a name given is used instead.
    assert post(api, zipped(members)).json()["name"] == "shot (2)"
    assert post(api, zipped(members), name="plate A").json()["name"] == "plate A"


def test_a_tar_of_a_folder_is_a_sequence_too(server: LiveServer, api: httpx.Client) -> None:
    """A folder dropped on the editor comes packed as a tar (no CRC to compute, nothing
    compressed): the same sequence, the same exact pixels; a link in it is no image."""
    images = frames(3)
    members = {f"plates/grade.{1001 + i}.png": png(im) for i, im in enumerate(images)}
    data = tarred(members)
    with tarfile.open(fileobj=io.BytesIO(data), mode="a") as archive:
        link = tarfile.TarInfo("plates/grade.1004.png")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    response = post(api, data, "plates.tar", fps="25")
    assert response.status_code == 201, response.text
    project = response.json()
    assert (project["name"], project["video"]["frame_count"]) == ("grade", 3)
    assert project["video"]["first_number"] == 1001
    decoded = stored_frames(server, project, "rgb24")
    assert all(np.array_equal(a, b) for a, b in zip(decoded, images, strict=True))
    cut = tarred(members)[: 512 + len(members["plates/grade.1001.png"]) + 700]
    response = post(api, cut, "plates.tar")
    assert (response.status_code, response.json()["detail"]) == (
        422,
        "cannot use 'plates.tar': the tar is cut off (it does not end as a tar ends)",
    )  # not a project of the one image before the cut


def test_a_tar_is_read_as_a_tar_whatever_it_holds(server: LiveServer, api: httpx.Client) -> None:
    """A folder with a zip beside its plates: the tar then ends near a zip's end record, where
    zipfile.is_zipfile looks, and was read as that zip (its notes, no images). Names a tar made
    where file names are Latin-1 hold bytes that are no UTF-8: they are read as Latin-1, where
    they were kept as surrogates no answer could encode (a 500)."""
    images = frames(2)
    members = {f"plates/notated.{1001 + i}.png": png(im) for i, im in enumerate(images)}
    beside = {"plates/zz_notes.zip": zipped({"notes.txt": b"grade notes"})}
    response = post(api, tarred(members | beside), "plates.tar")
    assert response.status_code == 201, response.text
    assert (response.json()["name"], response.json()["video"]["frame_count"]) == ("notated", 2)
    latin = io.BytesIO()
    ustar = tarfile.USTAR_FORMAT
    with tarfile.open(fileobj=latin, mode="w", format=ustar, encoding="latin-1") as archive:
        for i, image in enumerate(images):
            data = png(image)
            info = tarfile.TarInfo(f"pl\xe4tes/sh\xf6t.{1001 + i}.png")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    response = post(api, latin.getvalue(), "plates.tar")
    assert response.status_code == 201, response.text
    assert (response.json()["name"], response.json()["video"]["frame_count"]) == ("sh\xf6t", 2)
    assert api.get("/api/projects").status_code == 200


def test_a_ten_digit_frame_number_names_the_exports(api: httpx.Client) -> None:
    """Numbers of up to 15 digits are kept (JavaScript's numbers hold them exactly); a longer
    one is refused by name rather than the exports being numbered from 0."""
    members = {f"shot.{1234567890 + i}.png": png(im) for i, im in enumerate(frames(2))}
    response = post(api, tarred(members), "plates.tar")
    assert response.status_code == 201, response.text
    assert response.json()["video"]["first_number"] == 1234567890
    longest = {f"shot.{10**14 + i}.png": png(im) for i, im in enumerate(frames(1))}
    assert post(api, zipped(longest)).json()["video"]["first_number"] == 10**14
    with pytest.raises(MediaError, match=r"^shot\.1000000000000000\.png: its frame number has"):
        find_sequence({f"shot.{10**15}.png": 1})
    with pytest.raises(MediaError, match="its frame number has more than 15 digits"):
        find_sequence({f"shot.{'9' * 5000}.png": 1})  # past what int() parses: a ValueError
    assert find_sequence({f"shot.{0:020d}.png": 1}).first_number == 0  # only zeros before


@pytest.mark.timeout(30)
@pytest.mark.parametrize("to", ["itself", "the header before"])
def test_a_tar_member_of_negative_size_is_refused(to: str, tmp_path: Path) -> None:
    """A size field in base 256 may be negative: tarfile (before Python 3.11.14) then reads
    the next header from before this one, the same header again or an earlier one, forever:
    a few hundred bytes held the upload's thread and filled its memory."""
    images = [png(im) for im in frames(3)]
    data = bytearray(tarred({f"s.{1001 + i}.png": image for i, image in enumerate(images)}))
    before = 512 + -(-len(images[0]) // 512) * 512  # s.1002.png's header
    at = before + 512 + -(-len(images[1]) // 512) * 512  # s.1003.png's
    assert data[at : at + 10] == b"s.1003.png"
    back = at + 512 - (at if to == "itself" else before)
    data[at + 124 : at + 136] = b"\xff" + (-back % 256**11).to_bytes(11, "big")
    data[at + 148 : at + 156] = b" " * 8
    data[at + 148 : at + 156] = b"%06o\0 " % sum(data[at : at + 512])
    (tmp_path / "plates.tar").write_bytes(bytes(data))
    with pytest.raises(MediaError) as refused:
        sequence_to_video(tmp_path / "plates.tar", tmp_path / "video.nut", 24, Settings())
    assert str(refused.value) == "not a readable tar (s.1003.png goes back to an earlier header)"


def test_a_held_frame_hard_linked_in_a_tar_is_a_frame(tmp_path: Path) -> None:
    """`tar cf` stores a file linked under a second name (a held frame, shot.1004.png the same
    file as shot.1003.png) once, the second name as a hard link to the first: that is the
    image again, not a gap. A link to nothing before it is still no image."""
    images = frames(3)
    data = tarred({f"s.{1001 + i}.png": png(image) for i, image in enumerate(images)})
    buf = io.BytesIO(data)
    with tarfile.open(fileobj=buf, mode="a") as archive:
        for name, target in (("s.1004.png", "s.1003.png"), ("s.1005.png", "s.0999.png")):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.LNKTYPE, target
            archive.addfile(link)
    (tmp_path / "plates.tar").write_bytes(buf.getvalue())
    sequence = sequence_to_video(tmp_path / "plates.tar", tmp_path / "video.nut", 24, Settings())
    assert sequence.members == ["s.1001.png", "s.1002.png", "s.1003.png", "s.1004.png"]
    with av.open(str(tmp_path / "video.nut")) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert all(np.array_equal(a, b) for a, b in zip(decoded, [*images, images[2]], strict=True))


def test_a_gap_of_any_width_is_told_at_once() -> None:
    """Two images a trillion frames apart: the missing ones are counted from the spans between
    the numbers, never listed one by one (which took the server's memory and never answered)."""
    with pytest.raises(MediaError) as refused:
        find_sequence({"s.0.png": 1, "s.5.png": 1, f"s.{10**12}.png": 1})
    assert str(refused.value) == (
        "s.#.png has a gap: frames 1-4, 6-999999999999 missing (it has 0..1000000000000)"
    )


@pytest.mark.parametrize("codec", ["png", "tiff"])
def test_a_16_bit_sequence_keeps_16_bits(codec: str, server: LiveServer, api: httpx.Client) -> None:
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 65536, (H, W, 3), dtype=np.uint16) for _ in range(3)]
    members = {f"{codec}_{i:04d}.{codec}": png(im, codec) for i, im in enumerate(images)}
    response = post(api, zipped(members))
    assert response.status_code == 201, response.text
    project = response.json()
    assert project["name"] == codec
    assert project["video"]["fps"] == 24  # the default
    decoded = stored_frames(server, project, "rgb48le")
    assert all(np.array_equal(a, b) for a, b in zip(decoded, images, strict=True))


@pytest.mark.parametrize("deep", [(1,), (1, 2), (1, 2, 3), (0,)])  # which images are 16-bit
def test_16_bit_images_beside_8_bit_ones_keep_16_bits(
    deep: tuple[int, ...], tmp_path: Path
) -> None:
    """The depth was the first image's: a sequence whose first image is 8-bit (a slate, a
    frame saved again elsewhere) stored its 16-bit images in 8 bits. Any deep image makes
    the video 16-bit; an 8-bit image is kept exactly there too (x257: swscale's widening
    made 0 9 and 255 65283)."""
    rng = np.random.default_rng(5)
    images = [
        rng.integers(0, 65536, (H, W, 3), dtype=np.uint16) if i in deep else frames(1)[0]
        for i in range(4)
    ]
    plates = tmp_path / "plates"
    plates.mkdir()
    for i, image in enumerate(images):
        (plates / f"shot.{1001 + i}.png").write_bytes(png(image))
    video = tmp_path / "video.nut"
    sequence_to_video(plates, video, 24, Settings())
    with av.open(str(video)) as container:
        decoded = [f.to_ndarray(format="rgb48le") for f in container.decode(video=0)]
    wanted = [im if im.dtype == np.uint16 else im.astype(np.uint16) * 257 for im in images]
    assert all(np.array_equal(a, b) for a, b in zip(decoded, wanted, strict=True))


def test_a_jpeg_sequence(server: LiveServer, api: httpx.Client) -> None:
    images = frames(4)
    members = {f"take2.{i:03d}.JPG": jpeg(im) for i, im in enumerate(images, start=7)}
    response = post(api, zipped(members), fps="23.976")
    assert response.status_code == 201, response.text
    project = response.json()
    assert (project["name"], project["video"]["frame_count"]) == ("take2", 4)
    assert project["video"]["fps"] == pytest.approx(24000 / 1001, abs=1e-9)  # NTSC, exactly
    # What FFmpeg decodes each JPEG to, as any JPEG-coded video's frames: exactly.
    expected = [decoded_rgb(data) for data in members.values()]
    decoded = stored_frames(server, project, "rgb24")
    assert all(np.array_equal(a, b) for a, b in zip(decoded, expected, strict=True))


def srgb16(linear: float) -> int:
    """The sRGB encoding of one linear value, in 16 bits (IEC 61966-2-1)."""
    encoded = 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055
    return round(encoded * 65535)


def test_an_exr_sequence_is_shown_as_srgb_and_keeps_its_timecode(
    server: LiveServer, api: httpx.Client
) -> None:
    """Scene-linear half floats become 16-bit sRGB, as a compositor's viewer shows them (0.18
    grey at 46%, not 18%), clipped to 0..1; an alpha channel is dropped; a data window smaller
    than the display window (Nuke's bounding box) sits where it belongs, black around it; Y
    alone is grey; the first image's timeCode is the video's."""
    rng = np.random.default_rng(5)
    linear = [rng.random((H, W, 3), np.float32) for _ in range(4)]
    linear[0][0, :4] = [[0.0, 0.0, 0.0], [0.18, 0.18, 0.18], [1.0, 1.0, 1.0], [7.5, -2.0, np.nan]]
    box = (slice(5, 20), slice(10, 30))  # rows 5..19, columns 10..29 of the display window
    members = {
        "comp_v003.0101.exr": exr(
            {"RGB": linear[0].astype(np.float16)}, timeCode=exr_timecode(1, 0, 2, 3)
        ),
        "comp_v003.0102.exr": exr({"RGBA": np.dstack([linear[1], np.full((H, W), 0.5, "f")])}),
        "comp_v003.0103.exr": exr(
            {"RGB": np.ascontiguousarray(linear[2][box])},  # the library takes it as C order
            displayWindow=((0, 0), (W - 1, H - 1)),
            dataWindow=((10, 5), (29, 19)),
        ),
        "comp_v003.0104.exr": exr({"Y": np.ascontiguousarray(linear[3][..., 0])}),
    }
    response = post(api, zipped(members), fps="24")
    assert response.status_code == 201, response.text
    project = response.json()
    assert project["name"] == "comp_v003"
    assert (project["video"]["width"], project["video"]["height"]) == (W, H)
    assert project["video"]["timecode"] == "01:00:02:03"
    stored = [f.astype(np.int64) for f in stored_frames(server, project, "rgb48le")]
    assert stored[0][0, :4].tolist() == [
        [0, 0, 0],
        [srgb16(float(np.float16(0.18)))] * 3,  # 30239: 46% of white
        [65535] * 3,
        [65535, 0, 0],  # above white clipped, below black and NaN black
    ]
    half = linear[0][1:].astype(np.float16).astype(np.float64)  # below row 0: all in 0..1
    assert np.abs(stored[0][1:] - np.vectorize(srgb16)(half)).max() <= 1
    assert np.abs(stored[1] - np.vectorize(srgb16)(linear[1])).max() <= 1
    assert np.abs(stored[2][box] - np.vectorize(srgb16)(linear[2][box])).max() <= 1
    outside = np.ones((H, W), bool)
    outside[box] = False
    assert not stored[2][outside].any()
    grey = np.vectorize(srgb16)(linear[3][..., 0])
    assert all(np.abs(stored[3][..., c] - grey).max() <= 1 for c in range(3))


@pytest.mark.parametrize(
    ("fps", "rate", "timecode"), [(None, 25, "00:59:59:24"), ("50", 50, "00:59:59:48")]
)
def test_an_exr_sequence_s_stated_rate_is_the_default(
    fps: str | None, rate: int, timecode: str, api: httpx.Client
) -> None:
    """framesPerSecond is the video's rate unless the upload names one; the timecode is read
    at that rate (above 30 fps the EXR's frame field counts frame pairs: 24 is frame 48)."""
    image = exr(
        {"RGB": np.zeros((H, W, 3), np.float16)},
        framesPerSecond=Fraction(25, 1),  # a rational, as compositors write it (a tuple: v2i)
        timeCode=exr_timecode(0, 59, 59, 24),
    )
    fields = {} if fps is None else {"fps": fps}
    response = post(api, zipped({"bg.0001.exr": image, "bg.0002.exr": image}), **fields)
    assert response.status_code == 201, response.text
    assert (response.json()["video"]["fps"], response.json()["video"]["timecode"]) == (
        rate,
        timecode,
    )


def test_a_dpx_sequence_keeps_its_10_bits_its_rate_and_its_timecode(
    server: LiveServer, api: httpx.Client
) -> None:
    rng = np.random.default_rng(6)
    images = [rng.integers(0, 1024, (H, W, 3), dtype=np.uint16) << 6 for _ in range(3)]
    members = {f"scan.{86400 + i}.dpx": dpx10(im) for i, im in enumerate(images)}
    members["scan.86400.dpx"] = dpx10(images[0], timecode=0x10000223, rate=23.976)
    response = post(api, zipped(members))  # no fps: the one the scan states
    assert response.status_code == 201, response.text
    project = response.json()
    assert project["video"]["fps"] == pytest.approx(24000 / 1001, abs=1e-9)
    assert project["video"]["timecode"] == "10:00:02:23"
    decoded = stored_frames(server, project, "rgb48le")
    assert all(np.array_equal(a >> 6, b >> 6) for a, b in zip(decoded, images, strict=True))


def decoded_rgb(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def _cases() -> dict[str, tuple[dict[str, bytes], dict[str, str], str]]:
    """Refused uploads: the zip's members, the form's fields, the exact answer."""
    good = [png(im) for im in frames(6)]
    big = png(frames(1, W * 2, H)[0])
    return {
        "gap": (
            {f"s.{n}.png": good[0] for n in (1, 2, 4, 5, 9)},
            {},
            "cannot use 'plates.zip': s.#.png has a gap: frames 3, 6-8 missing (it has 1..9)",
        ),
        "two sequences": (
            {"a.01.png": good[0], "a.02.png": good[1], "b/c_1.png": good[2]},
            {},
            "cannot use 'plates.zip': 2 image sequences found, one is needed: a.##.png "
            "(2 images), b/c_#.png (1 image)",
        ),
        "size mismatch": (
            {"s.1.png": good[0], "s.2.png": good[1], "s.3.png": big},
            {},
            f"cannot use 'plates.zip': s.3.png is {2 * W}x{H} but s.1.png is {W}x{H}: every "
            "image of a sequence must be the same size",
        ),
        "not an image": (
            {"s.1.png": good[0], "s.2.png": b"this is not a picture" * 20},
            {},
            "cannot use 'plates.zip': s.2.png is not a readable image",
        ),
        "no images": (
            {"notes.txt": b"hello", "clip.mov": b"\0" * 100},
            {},
            "cannot use 'plates.zip': no PNG, JPEG, TIFF, DPX or EXR images found (the files "
            "are clip.mov, notes.txt)",
        ),
        "not an EXR": (
            {"s.1.exr": exr({"RGB": np.zeros((H, W, 3), "f")}), "s.2.exr": b"\x76\x2f\x31\x01"},
            {},
            "cannot use 'plates.zip': s.2.exr is not a readable image",
        ),
        "a cut-off EXR": (  # its header reads, its pixels do not
            {"s.1.exr": exr({"RGB": np.random.default_rng(0).random((H, W, 3), "f")})[:9000]},
            {},
            "cannot use 'plates.zip': s.1.exr is not a readable image",
        ),
        "an EXR of depth only": (
            {"s.1.exr": exr({"Z": np.zeros((H, W), "f"), "N.x": np.zeros((H, W), "f")})},
            {},
            "cannot use 'plates.zip': s.1.exr has no R, G, B or Y channels to show (it has N.x, Z)",
        ),
        "one pixel wide": (  # FFV1 cannot encode it: refused before a frame is written
            {"s.1.png": png(frames(1, 1, H)[0]), "s.2.png": png(frames(1, 1, H)[0])},
            {},
            f"cannot use 'plates.zip': s.1.png: frames of 1x{H} are too small: each side must be "
            "at least 16 pixels",
        ),
        "unpacks past the upload limit": (
            # 4 MB of zeros deflate to a few KB; the server's limit is 3 MB.
            {"s.1.png": good[0], "s.2.png": b"\0" * (4 * 1024 * 1024)},
            {},
            "cannot use 'plates.zip': the images unpack to 4.0 MB, more than the upload limit "
            "of 3.0 MB (VIDMATTE_MAX_UPLOAD_BYTES)",
        ),
        "fps too high": (
            {"s.1.png": good[0]},
            {"fps": "500"},
            "invalid fps: Input should be less than or equal to 240",
        ),
        "fps not a number": (
            {"s.1.png": good[0]},
            {"fps": "fast"},
            "invalid fps: Input should be a valid number, unable to parse string as a number",
        ),
        "fps with a digit separator": (  # Python's float() reads it, as 10
            {"s.1.png": good[0]},
            {"fps": "1_0"},
            "invalid fps: must be a plain decimal number, as 10, 23.976 or 1e-3",
        ),
        "fps with a '+'": (
            {"s.1.png": good[0]},
            {"fps": "+24"},
            "invalid fps: must be a plain decimal number, as 10, 23.976 or 1e-3",
        ),
        "fps not finite": (
            {"s.1.png": good[0]},
            {"fps": "nan"},
            "invalid fps: Input should be a finite number",
        ),
        "fps as a ratio": (  # as FFmpeg writes rates; said as its decimal, which is exact
            {"s.1.png": good[0]},
            {"fps": "24000/1001"},
            "invalid fps: a decimal number is needed: 23.976 for 24000/1001 (the NTSC rates "
            "23.976, 29.97, 59.94... are taken as exactly n*1000/1001)",
        ),
        "fps as a ratio of zero": (
            {"s.1.png": good[0]},
            {"fps": "24/0"},
            "invalid fps: Input should be a valid number, unable to parse string as a number",
        ),
        # Never written; the message said no images were found, and listed them. The answer
        # shortens paths (errors.py), these too.
        "member named outside": (
            {"../../escape.1.png": good[0]},
            {},
            "cannot use 'plates.zip': its images are named outside the archive, with '..' in "
            "their paths (.../escape.1.png): make the archive from inside the images' folder",
        ),
        "members named outside, in a folder": (
            {f"../../evil/escape.{i}.png": good[i] for i in range(3)} | {"notes.txt": b"hi"},
            {},
            "cannot use 'plates.zip': its images are named outside the archive, with '..' in "
            "their paths (.../escape.0.png and 2 more): make the archive from inside the "
            "images' folder",
        ),
    }


CASES = _cases()


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_sequence_is_refused_naming_the_problem(
    case: str, server: LiveServer, api: httpx.Client
) -> None:
    members, fields, detail = CASES[case]
    before_projects = api.get("/api/projects").json()
    before_files = data_files(server.data_dir)
    response = post(api, zipped(members), **fields)
    assert (response.status_code, response.json()["detail"]) == (422, detail)
    assert api.get("/api/projects").json() == before_projects
    assert data_files(server.data_dir) == before_files
    assert not list((server.data_dir / "tmp").iterdir())
    assert not (server.data_dir.parent / "escape.1.png").exists()


def test_fps_is_refused_for_a_video(api: httpx.Client, clip: Path) -> None:
    """A video keeps its own frame rate: an fps with it is a mistake, said, not ignored."""
    response = post(api, clip.read_bytes(), "disk.mp4", fps="30")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "invalid fps: only an image sequence (a zip) takes one; a video has its own"
    )


def test_a_video_that_ends_like_a_zip_is_still_a_video(api: httpx.Client, clip: Path) -> None:
    """Compressed video is close to random bytes, so a zip's end-of-archive signature can turn
    up in a video's last 64 KB, where zipfile.is_zipfile looks for it: such a video must not
    be taken for a zip of images. A zip starts with its first member's header (or, empty, its
    end record)."""
    data = clip.read_bytes() + b"PK\x05\x06" + bytes(18)  # players ignore bytes after the video
    assert zipfile.is_zipfile(io.BytesIO(data))
    response = post(api, data, "disk.mp4")
    assert response.status_code == 201, response.text
    assert response.json()["video"]["frame_count"] == probe(clip)[0].frame_count


@pytest.mark.parametrize(
    ("typed", "rate"),
    [
        (23.976, Fraction(24000, 1001)),
        (23.98, Fraction(24000, 1001)),
        (24000 / 1001, Fraction(24000, 1001)),
        (29.97, Fraction(30000, 1001)),
        (47.952, Fraction(48000, 1001)),
        (59.94, Fraction(60000, 1001)),
        (119.88, Fraction(120000, 1001)),
        (24, Fraction(24)),
        (25, Fraction(25)),
        (30, Fraction(30)),
        (12.5, Fraction(25, 2)),
        (1, Fraction(1)),
        (240, Fraction(240)),
    ],
)
def test_a_typed_rate_is_the_rate_it_names(typed: float, rate: Fraction) -> None:
    """23.976 is how everyone writes 24000/1001 (film on NTSC video): taken literally it would
    be 2997/125, and the sequence's timing and its exports' rate would be off by 1 in 24,000."""
    assert frame_rate(typed) == rate


@pytest.mark.parametrize("fps", [24.0, 23.976, 119.88, 7.3])
def test_a_sequence_s_frames_keep_their_exact_times(fps: float, tmp_path: Path) -> None:
    """Frame k shows at exactly k / rate: exports take each frame's time from the video, so a
    clock rounded to milliseconds (Matroska's) made a 24 fps sequence's ProRes and MP4 files
    variable-rate, frames 42, 41 and 42 ms apart. The rate is exact too, odd ones included."""
    plates = tmp_path / "plates"
    plates.mkdir()
    for i, image in enumerate(frames(5)):
        (plates / f"shot.{1001 + i}.png").write_bytes(png(image))
    video = tmp_path / "sequence.video"
    sequence_to_video(plates, video, fps, Settings())
    info, pts = probe(video)
    reader = VideoReader(video, pts, info.rotation)
    try:
        times = [reader.time(i) for i in range(len(reader))]
    finally:
        reader.close()
    rate = frame_rate(fps)
    assert times == [i / rate for i in range(5)]
    assert info.fps == pytest.approx(float(rate), abs=1e-9)


def test_a_sequence_s_matte_is_numbered_as_its_plates(api: httpx.Client) -> None:
    """Matted over frames 1..2 of shot.1001.png...: the download is *_frames_1002-1003.zip
    holding alpha/001002.png and alpha/001003.png, the plates' own numbers, for a compositor
    to line them up; the API's frame indices stay 0-based."""
    members = {f"shot.{1001 + i}.png": png(im) for i, im in enumerate(frames(4, 64, 48))}
    pid = post(api, zipped(members), name="numbered").json()["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    points = {"points": [{"x": 30, "y": 24, "label": "positive"}]}
    assert api.put(f"/api/projects/{pid}/objects/{obj}/frames/1/points", json=points).is_success
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 1, "end": 2}).json()
    waiting.wait_for(
        lambda: api.get(f"/api/jobs/{job['id']}").json(),
        120,
        "the job",
        0.05,
        lambda j: j["status"] == "done",
    )
    archive = api.get(f"/api/jobs/{job['id']}/archive", params={"formats": "alpha_png"})
    assert archive.status_code == 200, archive.text
    assert archive.headers["content-disposition"] == (
        'attachment; filename="numbered_frames_1002-1003.zip"'
    )
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert sorted(names) == ["alpha/001002.png", "alpha/001003.png"]


def tiff_rgba(image: np.ndarray) -> bytes:
    """An 8-bit RGBA TIFF by FFmpeg's encoder."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="image2pipe") as container:
        stream = container.add_stream("tiff")
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "rgba"
        container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgba")))
        container.mux(stream.encode(None))
    return buf.getvalue()


def with_alpha(image: np.ndarray, level: int) -> np.ndarray:
    """The RGB image with an alpha channel, opaque but for one pixel at `level`."""
    alpha = np.full(image.shape[:2], 255, np.uint8)
    alpha[3, 4] = level
    return np.dstack([image, alpha])


def palette_png(image: np.ndarray, level: int) -> bytes:
    """The image in 256 colours (a palette PNG), one pixel of an entry `level` opaque in
    its transparency chunk (tRNS)."""
    indexed = Image.fromarray(image).quantize(255)  # entries 0..254
    pixels = np.asarray(indexed).copy()
    pixels[3, 4] = 255
    picture = Image.fromarray(pixels, "P")
    palette = [*indexed.getpalette(), *[0] * 768][: 255 * 3]
    picture.putpalette([*palette, 0, 0, 0])
    buf = io.BytesIO()
    picture.save(buf, format="PNG", transparency=bytes([255] * 255 + [level]))
    return buf.getvalue()


def linear_rgba(image: np.ndarray, level: int) -> dict[str, np.ndarray]:
    """An EXR's channels of the image (as linear floats) and an A like `with_alpha`'s."""
    rgba = with_alpha(image, level).astype(np.float32) / 255
    return {"RGB": np.ascontiguousarray(rgba[..., :3]), "A": np.ascontiguousarray(rgba[..., 3])}


SEE_THROUGH_NOTE = (
    "the images' alpha channel is ignored: their colour is used as stored (an EXR's "
    "premultiplied) and the matte is made anew"
)


@pytest.mark.parametrize(
    ("kind", "levels", "noted"),
    [
        ("png", (128, 255, 255), True),  # the first image
        ("palette", (255, 255, 0), True),  # a palette's transparency (tRNS)
        ("palette", (255, 255, 255), False),
        ("tiff", (255, 255, 0), True),  # the last
        ("exr", (255, 255, 0), True),
        ("exr", (0, 255, 255), True),
        ("png", (255, 255, 255), False),  # an opaque alpha is nothing lost
        ("exr", (255, 255, 255), False),
        ("png", (255, 0, 255), False),  # only the first and the last image are looked at
    ],
)
def test_a_sequence_whose_alpha_is_dropped_says_so(
    kind: str, levels: tuple[int, ...], noted: bool, tmp_path: Path
) -> None:
    """Images with an alpha channel that is not opaque (in the first or the last image) get
    a note, as a video with one does; their colour is kept as it was."""
    plates = tmp_path / "plates"
    plates.mkdir()
    images = frames(len(levels))
    for i, (image, level) in enumerate(zip(images, levels, strict=True)):
        if kind == "exr":
            data = exr(linear_rgba(image, level))
        elif kind == "palette":
            data = palette_png(image, level)
        else:
            data = (png if kind == "png" else tiff_rgba)(with_alpha(image, level))
        suffix = {"tiff": "tif", "palette": "png"}.get(kind, kind)
        (plates / f"shot.{1001 + i}.{suffix}").write_bytes(data)
    video = tmp_path / "sequence.video"
    sequence_to_video(plates, video, 24, Settings())
    info, _ = probe(video)
    assert info.notes == ([SEE_THROUGH_NOTE] if noted else [])
    with av.open(str(video)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if kind in ("png", "tiff"):  # an EXR's goes through sRGB, a palette's is quantized
        assert all(np.array_equal(a, b) for a, b in zip(decoded, images, strict=True))


@pytest.mark.parametrize(("orientation", "corner"), [(6, (0, -1)), (8, (-1, 0)), (3, (-1, -1))])
def test_a_jpeg_sequence_is_turned_as_its_exif_orientation_says(
    orientation: int, corner: tuple[int, int], tmp_path: Path
) -> None:
    """A phone's or a camera's JPEG is stored as the sensor saw it and its EXIF orientation
    says how to turn it (6: a quarter turn clockwise): the sequence's video was sideways. The
    stored top-left corner (red) goes where the turn takes it, the size with it."""
    stored = np.full((H, W, 3), 128, np.uint8)
    stored[:8, :8] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    plates = tmp_path / "plates"
    plates.mkdir()
    for i in range(2):
        buf = io.BytesIO()
        Image.fromarray(stored).save(buf, format="JPEG", quality=95, exif=exif.tobytes())
        (plates / f"photo_{i + 1:04d}.jpg").write_bytes(buf.getvalue())
    video = tmp_path / "sequence.video"
    sequence_to_video(plates, video, 24, Settings())
    info, _ = probe(video)
    assert (info.width, info.height) == ((H, W) if orientation in (6, 8) else (W, H))
    with av.open(str(video)) as container:
        shown = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    row, column = corner  # 0: the first row (column), -1: the last
    red = shown[4 if row == 0 else -5, 4 if column == 0 else -5]
    assert np.abs(red - (255, 0, 0)).max() <= 8


def encrypted(data: bytes) -> bytes:
    """The zip with every member marked encrypted (bit 0 of its flags, in its local and its
    central header), as `zip -e` leaves it: zipfile then wants a password to read any."""
    marked = bytearray(data)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = marked.find(signature)
        while at >= 0:
            marked[at + flags_at] |= 1
            at = marked.find(signature, at + 4)
    return bytes(marked)


def _damaged() -> dict[str, tuple[bytes, str]]:
    """Zips that cannot be read as they are: the upload, the exact answer."""
    whole = zipped({f"s.{i + 1}.png": png(im) for i, im in enumerate(frames(3))})
    return {
        # zipfile's own message held its ZipInfo's repr (compress_type=deflate filemode=...)
        "encrypted": (
            encrypted(whole),
            "cannot use 'plates.zip': s.1.png is encrypted in the zip: zip the images without "
            "a password",
        ),
        # An interrupted download: its members' headers are there, its list of them (at the
        # end) is not. It was probed as a video: "not a readable video file".
        "cut off": (
            whole[: len(whole) * 2 // 3],
            "cannot use 'plates.zip': the zip is cut off (its list of files, at its end, is "
            "missing): copy or download it again in full",
        ),
    }


DAMAGED = _damaged()


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_zip_is_refused_naming_the_problem(
    case: str, server: LiveServer, api: httpx.Client
) -> None:
    data, detail = DAMAGED[case]
    before_projects = api.get("/api/projects").json()
    before_files = data_files(server.data_dir)
    response = post(api, data)
    assert (response.status_code, response.json()["detail"]) == (422, detail)
    assert api.get("/api/projects").json() == before_projects
    assert data_files(server.data_dir) == before_files


@pytest.mark.parametrize(
    ("member", "name"),
    [
        # A bidi override and a tab: a rename to that name is refused (schemas.clean_name).
        ("a\u202ebc\t.1001.png", "abc"),
        # A zero-width space in the folder a numbered-only sequence is named after.
        ("take\u200b 2/0001.png", "take 2"),
        # Nothing left of it: named as a sequence without a name is.
        ("\u202e.0001.png", "sequence"),
    ],
)
def test_a_sequence_s_name_is_one_a_rename_would_take(
    member: str, name: str, api: httpx.Client
) -> None:
    """A project named after its sequence (no name given) gets a name the API itself would
    accept: the zip's member names are anyone's."""
    response = post(api, zipped({member: png(frames(1)[0])}))
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    assert api.patch(f"/api/projects/{response.json()['id']}", json={"name": name}).is_success


def test_many_sequences_are_counted_not_all_listed() -> None:
    """A zip of unnumbered photos is a sequence each: the answer named every one of them, a
    detail of any length. The first five are named, the rest counted."""
    with pytest.raises(MediaError) as refused:
        find_sequence({f"photo_{chr(97 + i)}.png": 1 for i in range(20)} | {"s.1.png": 1})
    assert str(refused.value) == (
        "21 image sequences found, one is needed: photo_a.png (1 image), photo_b.png "
        "(1 image), photo_c.png (1 image), photo_d.png (1 image), photo_e.png (1 image) "
        "and 16 more"
    )


def test_a_zip_made_with_backslashes_is_read_by_its_folders() -> None:
    """Windows' own zip tools (PowerShell's Compress-Archive, .NET before 4.6.1) wrote paths
    with backslashes: the project was named `plates\\shot`, after a folder it is not in."""
    sequence = find_sequence({"plates\\shot.1.png": 1, "plates\\shot.2.png": 1})
    assert (sequence.name, sequence.pattern) == ("shot", "plates/shot.#.png")
    assert sequence.members == ["plates\\shot.1.png", "plates\\shot.2.png"]


def test_a_number_after_the_frame_number_is_said_to_be_the_problem() -> None:
    """A version after the frame number (`shot.0001_v2.png`) makes each image a sequence of its
    own, frame 2: 100 plates were "100 image sequences found", without a word on why."""
    with pytest.raises(MediaError) as refused:
        find_sequence({f"shot.{n:04d}_v2.png": 1 for n in range(1, 8)})
    assert str(refused.value) == (
        "7 image sequences found, one is needed: shot.0001_v#.png (1 image), shot.0002_v#.png "
        "(1 image), shot.0003_v#.png (1 image), shot.0004_v#.png (1 image), shot.0005_v#.png "
        "(1 image) and 2 more (a sequence's frame number is the last number in its names: "
        "shot_v2.0001.png, not shot.0001_v2.png)"
    )
    # Sequences that are told apart by a name are several indeed: no such hint.
    with pytest.raises(MediaError) as refused:
        find_sequence({"a.1.png": 1, "b.1.png": 1})
    assert str(refused.value).endswith("a.#.png (1 image), b.#.png (1 image)")


def raw_named_zip(
    members: dict[bytes, bytes], unicode_paths: dict[bytes, str] | None = None
) -> bytes:
    """A zip whose members' names are the bytes given, without the UTF-8 flag, as Windows'
    Explorer and older zip tools write them (in the OEM code page, or UTF-8 unflagged);
    `unicode_paths` gives a name its Info-ZIP Unicode Path extra field (0x7075): its body after
    the version and the CRC-32 of the name's bytes. Written by zipfile under ASCII names of the
    same length, then renamed in the bytes (a zip keeps no check of its names)."""
    buf = io.BytesIO()
    stand_ins = {name: bytes([97 + i]) * len(name) for i, name in enumerate(members)}  # aaa, bbb
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(stand_ins[name].decode())
            if name in (unicode_paths or {}):
                body = struct.pack("<BI", 1, zlib.crc32(name)) + unicode_paths[name].encode()
                info.extra = struct.pack("<HH", 0x7075, len(body)) + body
            archive.writestr(info, data)
    data = buf.getvalue()
    for name, stand_in in stand_ins.items():
        assert data.count(stand_in) == 2  # its local and its central header
        data = data.replace(stand_in, name)
    return data


@pytest.mark.parametrize(
    ("names", "unicode_paths", "name", "pattern"),
    [
        # UTF-8 without the flag (macOS's Compress, Info-ZIP's zip): read as cp437, the project
        # was `πé╖πâºπââπâê`.
        ([f"ショット.{n}.png".encode() for n in (9, 10)], {}, "ショット", "ショット.#.png"),
        # Full-width digits (an IME's): as cp437 no number at all, two sequences of one image.
        (
            [f"кадр_{n}.png".encode() for n in ("\uff10\uff19", "\uff11\uff10")],
            {},
            "кадр",
            "кадр_##.png",
        ),
        # cp437 itself (Explorer on a Western-European Windows): é is 0x82, no UTF-8.
        ([b"caf\x82.1.png", b"caf\x82.2.png"], {}, "café", "café.#.png"),
        # Cyrillic in cp866 (a Russian Windows) with Info-ZIP's Unicode Path of each name.
        (
            ["кадр.1.png".encode("cp866"), "кадр.2.png".encode("cp866")],
            {
                "кадр.1.png".encode("cp866"): "кадр.1.png",
                "кадр.2.png".encode("cp866"): "кадр.2.png",
            },
            "кадр",
            "кадр.#.png",
        ),
    ],
)
def test_a_zip_s_names_are_read_in_the_encoding_they_were_written_in(
    names: list[bytes], unicode_paths: dict[bytes, str], name: str, pattern: str, tmp_path: Path
) -> None:
    """A zip member without the UTF-8 flag has its name in some code page: zipfile takes
    cp437, which garbled names written in UTF-8 unflagged (the project's name, and a frame
    number of other digits than ASCII's). UTF-8 is taken where the bytes are that, and
    Info-ZIP's Unicode Path where the zip has it."""
    images = [png(image) for image in frames(len(names))]
    upload = tmp_path / "plates.zip"
    upload.write_bytes(raw_named_zip(dict(zip(names, images, strict=True)), unicode_paths))
    sequence = sequence_to_video(upload, tmp_path / "sequence.video", None, Settings())
    assert (sequence.name, sequence.pattern) == (name, pattern)
    assert len(sequence.members) == len(names)


def test_a_unicode_path_of_another_name_is_passed_over(tmp_path: Path) -> None:
    """The Unicode Path field holds the CRC-32 of the name it was written for: one whose CRC
    is not this name's (a tool renamed the member and kept the field) is passed over, as
    APPNOTE says, the name in the header read as it would be without it."""
    raw = "кадр.1.png".encode("cp866")
    data = raw_named_zip({raw: png(frames(1)[0])}, {raw: "other.1.png"})
    crc = struct.pack("<I", zlib.crc32(raw))
    assert data.count(crc) == 2  # the field, in the local and in the central header
    upload = tmp_path / "plates.zip"
    upload.write_bytes(data.replace(crc, struct.pack("<I", zlib.crc32(b"old.1.png"))))
    sequence = sequence_to_video(upload, tmp_path / "sequence.video", None, Settings())
    assert sequence.name == "¬áñα"  # cp866's bytes as cp437 reads them: no UTF-8


def test_a_float_tiff_sequence_keeps_its_values_in_16_bits(tmp_path: Path) -> None:
    """Nuke's and Photoshop's 32-bit float RGBA TIFFs: the first one's alpha stopped the upload
    with swscale's "Operation not supported" (no message of ours, an error 500). Each frame's
    0..1 values are the video's 16 bits, clipped."""
    rng = np.random.default_rng(4)
    images = [rng.random((H, W, 4), np.float32) * 1.2 - 0.1 for _ in range(3)]
    for image in images:
        image[..., 3] = 1.0
    upload = tmp_path / "plates.zip"
    upload.write_bytes(zipped({f"s.{i + 1}.tif": tiff_of(im, 3) for i, im in enumerate(images)}))
    video = tmp_path / "sequence.video"
    sequence_to_video(upload, video, None, Settings())
    with av.open(str(video)) as container:
        decoded = [f.to_ndarray(format="rgb48le") for f in container.decode(video=0)]
    expected = [np.round(np.clip(im[..., :3], 0, 1) * 65535).astype(np.uint16) for im in images]
    assert len(decoded) == 3
    assert all(np.array_equal(d, e) for d, e in zip(decoded, expected, strict=True))
