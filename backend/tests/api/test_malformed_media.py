"""A corpus of malformed media, generated here, uploaded to the live server.

Every file must be refused with a 4xx and a readable message, and leave nothing behind: no
project, no file in the data dir's tmp/ or projects/.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile
import zipfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from tests.api.test_jobs import wait_job
from tests.conftest import upload
from tests.media.test_export import damage_audio, make_source
from tests.server import LiveServer
from tests.synth import write_mjpeg_avi, write_video

RNG_SEED = 6
ENDED = {"done", "failed", "cancelled", "interrupted"}  # a job's statuses once it stops


def _clip_bytes(tmp: Path, **kwargs) -> bytes:
    path = tmp / "clip.mp4"
    write_video(path, **kwargs)
    return path.read_bytes()


def _faststart_clip(tmp: Path) -> bytes:
    """The clip with its index (moov) before the media data, as streaming sites write it."""
    path = tmp / "faststart.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        rng = np.random.default_rng(RNG_SEED)  # noise: large frames, so a cut lands in them
        for _ in range(12):
            image = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path.read_bytes()


def _cut_faststart(tmp: Path) -> bytes:
    """The index is complete but the media data stops at 60%: the last frames are missing."""
    data = _faststart_clip(tmp)
    return data[: len(data) * 6 // 10]


def _audio(tmp: Path, fmt: str, codec: str, suffix: str, cover: bool = False) -> bytes:
    """Half a second of a tone; with a `cover` picture (a song's album art), which MP3 and MP4
    keep as an attached picture and Matroska as an attachment."""
    path = tmp / f"tone{suffix}"
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=48000)
        stream.layout = "mono"
        if cover and fmt == "matroska":
            container.add_attachment("cover.jpg", "image/jpeg", _image("JPEG"))
        elif cover:
            picture = container.add_stream("mjpeg")
            picture.width, picture.height, picture.pix_fmt = 96, 64, "yuvj420p"
            picture.disposition = av.stream.Disposition.attached_pic
            packet = av.Packet(_image("JPEG"))
            packet.stream, packet.pts, packet.dts = picture, 0, 0
            container.mux(packet)
        t = np.arange(48000 // 2) / 48000
        samples = (np.sin(2 * np.pi * 440 * t) * 0.3).astype(np.float32)
        fmt_name = stream.codec_context.codec.audio_formats[0].name
        scale, dtype = {"s16": (2**15 - 1, np.int16), "s32": (2**31 - 1, np.int32)}.get(
            fmt_name.rstrip("p"), (1.0, np.float32)
        )
        for start in range(0, len(samples), 1024):
            data = (samples[start : start + 1024] * scale).astype(dtype)[None]
            frame = av.AudioFrame.from_ndarray(data, format=fmt_name, layout="mono")
            frame.sample_rate = 48000
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path.read_bytes()


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    rgb = np.zeros((64, 96, 3), np.uint8)
    rgb[16:48, 24:72] = (220, 40, 30)
    Image.fromarray(rgb).save(buf, format=fmt)
    return buf.getvalue()


def _zero_frame_mp4(tmp: Path) -> bytes:
    path = tmp / "empty.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=Fraction(12))
        stream.width, stream.height = 96, 64
        container.start_encoding()  # the header is written, no frame ever is
    return path.read_bytes()


def _y4m(width: int, height: int, frames: int) -> bytes:
    header = f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\n".encode()
    frame = b"FRAME\n" + bytes(width * height * 3 // 2) if width * height < 10**6 else b""
    return header + frame * frames


def _ivf(width: int, height: int) -> bytes:
    """An IVF (VP8) file whose header claims a frame size, followed by one garbage frame."""
    header = b"DKIF" + struct.pack("<HH4sHHIIII", 0, 32, b"VP80", width, height, 25, 1, 1, 0)
    payload = bytes(range(256)) * 4
    return header + struct.pack("<IQ", len(payload), 0) + payload


def _growing_mjpeg(tmp: Path) -> bytes:
    """An AVI whose header and first frames are 320x240 and whose last frames are larger."""
    path = tmp / "grows.avi"
    write_mjpeg_avi(path, [(320, 240)] * 8 + [(640, 480)] * 4)
    return path.read_bytes()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _corrupt_moov(clip: bytes) -> bytes:
    """Keep the container's structure but overwrite the sample tables' contents."""
    data = bytearray(clip)
    at = data.find(b"stsz")
    assert at > 0
    data[at + 4 : at + 200] = bytes(196)
    return bytes(data)


def _raw_h264(tmp: Path) -> bytes:
    """A camera's raw H.264 stream: frames, but no timestamps to find them by."""
    path = tmp / "camera.h264"
    write_video(path, frames=4)
    return path.read_bytes()


def _shared_timestamps(tmp: Path) -> bytes:
    """2000 fps on Matroska's millisecond clock: frames 1 and 2 share one timestamp."""
    path = tmp / "slowmo.mkv"
    write_video(path, frames=6, fps=2000, codec="ffv1")
    return path.read_bytes()


def _animated_webp() -> bytes:
    images = [Image.new("RGB", (64, 48), (40 * i, 90, 200)) for i in range(3)]
    buffer = io.BytesIO()
    images[0].save(buffer, "WEBP", save_all=True, append_images=images[1:], duration=100)
    return buffer.getvalue()


# name → (filename, builder(tmp, clip) → bytes)
Builder = Callable[[Path, bytes], bytes]
CORPUS: dict[str, tuple[str, Builder]] = {
    "zero-length": ("empty.mp4", lambda tmp, clip: b""),
    "one byte": ("one.mp4", lambda tmp, clip: b"\x00"),
    "random bytes": (
        "noise.mp4",
        lambda tmp, clip: (
            np.random.default_rng(RNG_SEED).integers(0, 256, 64 * 1024, dtype=np.uint8).tobytes()
        ),
    ),
    "plain text": ("notes.mp4", lambda tmp, clip: b"just some notes, no video here\n" * 40),
    "json renamed .mkv": (
        "data.mkv",
        lambda tmp, clip: json.dumps({"a": list(range(500))}).encode(),
    ),
    "html renamed .webm": (
        "page.webm",
        lambda tmp, clip: (
            b"<!doctype html><html><body>" + b"<p>hello</p>" * 200 + b"</body></html>"
        ),
    ),
    "pdf renamed .mov": (
        "paper.mov",
        lambda tmp, clip: (
            b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
        ),
    ),
    "png renamed .mp4": ("picture.mp4", lambda tmp, clip: _image("PNG")),
    "jpeg renamed .mp4": ("photo.mp4", lambda tmp, clip: _image("JPEG")),
    "bmp renamed .avi": ("bitmap.avi", lambda tmp, clip: _image("BMP")),
    "webp renamed .mp4": ("picture.mp4", lambda tmp, clip: _image("WEBP")),
    "tiff renamed .mov": ("scan.mov", lambda tmp, clip: _image("TIFF")),
    "audio-only m4a as .mp4": ("song.mp4", lambda tmp, clip: _audio(tmp, "mp4", "aac", ".m4a")),
    "audio-only wav": ("tone.wav", lambda tmp, clip: _audio(tmp, "wav", "pcm_s16le", ".wav")),
    "audio-only mp3 as .mp4": (
        "tone.mp4",
        lambda tmp, clip: _audio(tmp, "mp3", "libmp3lame", ".mp3"),
    ),
    "mp3 with a cover picture": (
        "song.mp3",
        lambda tmp, clip: _audio(tmp, "mp3", "libmp3lame", ".mp3", cover=True),
    ),
    "m4a with a cover picture": (
        "song.m4a",
        lambda tmp, clip: _audio(tmp, "mp4", "aac", ".m4a", cover=True),
    ),
    "mka with a cover attachment": (
        "song.mka",
        lambda tmp, clip: _audio(tmp, "matroska", "aac", ".mka", cover=True),
    ),
    "subtitles only": (
        "captions.mp4",
        lambda tmp, clip: (
            b"1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nWorld\n"
        ),
    ),
    "zip with a video inside": ("clip.zip", lambda tmp, clip: _zip({"disk.mp4": clip})),
    "zip renamed .mp4": ("clip.mp4", lambda tmp, clip: _zip({"readme.txt": b"hello" * 100})),
    "tar with a video inside": ("clip.tar", lambda tmp, clip: _tar({"disk.mp4": clip})),
    "gzipped video": ("clip.mp4.gz", lambda tmp, clip: gzip.compress(clip)),
    "truncated to its first 40 bytes": ("cut.mp4", lambda tmp, clip: clip[:40]),
    "truncated to half": ("half.mp4", lambda tmp, clip: clip[: len(clip) // 2]),
    "truncated before its last 100 bytes": ("short.mp4", lambda tmp, clip: clip[:-100]),
    "sample table zeroed": ("broken.mp4", lambda tmp, clip: _corrupt_moov(clip)),
    "no frames": ("nothing.mp4", lambda tmp, clip: _zero_frame_mp4(tmp)),
    "huge dimensions in a y4m header": ("huge.y4m", lambda tmp, clip: _y4m(8000, 8000, 1)),
    "huge dimensions in an ivf header": ("huge.ivf", lambda tmp, clip: _ivf(16000, 9000)),
    "y4m header without frames": ("header.y4m", lambda tmp, clip: _y4m(96, 64, 0)),
    "ivf with garbage frames": ("garbage.ivf", lambda tmp, clip: _ivf(96, 64)),
    "frames that grow mid-stream": ("grows.avi", lambda tmp, clip: _growing_mjpeg(tmp)),
    "raw h264 without timestamps": ("camera.h264", lambda tmp, clip: _raw_h264(tmp)),
    "frames sharing a timestamp": ("slowmo.mkv", lambda tmp, clip: _shared_timestamps(tmp)),
    "animated webp": ("sticker.webp", lambda tmp, clip: _animated_webp()),
    "path in the file name": ("../../escape.mp4", lambda tmp, clip: b"not a video" * 10),
}


def data_files(data_dir: Path) -> set[str]:
    """Every file under tmp/ and projects/, relative to the data dir."""
    found = set()
    for folder in ("tmp", "projects"):
        root = data_dir / folder
        if root.exists():
            found |= {str(p.relative_to(data_dir)) for p in root.rglob("*")}
    return found


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return _clip_bytes(tmp_path_factory.mktemp("malformed"))


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("case", list(CORPUS))
def test_malformed_upload_is_refused_cleanly(
    case: str, server: LiveServer, api: httpx.Client, clip_bytes: bytes, tmp_path: Path
) -> None:
    filename, build = CORPUS[case]
    data = build(tmp_path, clip_bytes)
    before_files = data_files(server.data_dir)
    before_projects = api.get("/api/projects").json()

    response = api.post(
        "/api/projects", files={"file": (filename, data, "video/mp4")}, data={"name": case}
    )

    assert 400 <= response.status_code < 500, f"{case}: {response.status_code} {response.text}"
    detail = response.json()["detail"]
    assert isinstance(detail, str) and len(detail) > 10, detail
    assert str(server.data_dir) not in detail and "upload-" not in detail, "leaks a server path"
    assert api.get("/api/projects").json() == before_projects
    assert data_files(server.data_dir) == before_files
    assert not list((server.data_dir / "tmp").iterdir())
    escaped = server.data_dir.parent / "escape.mp4"
    assert not escaped.exists() and not (server.data_dir.parent.parent / "escape.mp4").exists()


def test_messages_say_what_is_wrong(api: httpx.Client, clip_bytes: bytes, tmp_path: Path) -> None:
    def detail(case: str) -> str:
        filename, build = CORPUS[case]
        response = api.post(
            "/api/projects", files={"file": (filename, build(tmp_path, clip_bytes), "video/mp4")}
        )
        return response.json()["detail"]

    assert detail("zero-length") == "the uploaded file is empty"
    assert "still image" in detail("png renamed .mp4")
    assert "no video stream (it holds audio)" in detail("audio-only m4a as .mp4")
    # A song's album art is not its video (it was taken for a raw stream without timestamps).
    for case in (
        "mp3 with a cover picture",
        "m4a with a cover picture",
        "mka with a cover attachment",
    ):
        assert detail(case) == (
            f"cannot use '{CORPUS[case][0]}': the file has no video stream (it holds audio, a "
            "cover picture)"
        ), case
    assert detail("huge dimensions in a y4m header") == (
        "cannot use 'huge.y4m': frames of 8000x8000 are larger than the limit of 33,177,600 "
        "pixels (8K UHD is 7680x4320)"
    )
    assert detail("random bytes").startswith("cannot use 'noise.mp4'")
    assert detail("raw h264 without timestamps").startswith(
        "cannot use 'camera.h264': the file is raw H.264 video, whose frames have no timestamps"
    )
    assert detail("frames sharing a timestamp").startswith(
        "cannot use 'slowmo.mkv': frames 1 and 2 of the video share one timestamp"
    )
    assert detail("animated webp").startswith("cannot use 'sticker.webp': the file is an animated")
    # An MP4 whose index, written last, is cut off: said so, not "not a readable video file
    # (Invalid data found when processing input)" or "the video has no frames".
    for case in (
        "truncated to its first 40 bytes",
        "truncated to half",
        "truncated before its last 100 bytes",
    ):
        assert detail(case).startswith(
            f"cannot use '{CORPUS[case][0]}': the file is cut short (truncated) before the end "
            "of its index (the 'moov' box, which MP4 and MOV recordings write last)"
        ), case
    assert detail("frames that grow mid-stream") == (
        "cannot use 'grows.avi': frame 11 is 640x480 but the video's frames are 320x240; "
        "videos whose frame size changes are not supported"
    )


def test_a_file_cut_short_is_read_up_to_where_it_stops(api: httpx.Client, tmp_path: Path) -> None:
    """An MP4 whose index is complete but whose media data stops at 60% (a download broken
    off) was refused as damaged, where a Matroska file cut short is read up to its end: the
    frames it holds are the project, and the upload says it is cut short."""
    path = tmp_path / "stream.mp4"
    path.write_bytes(_cut_faststart(tmp_path))
    project = upload(api, path)
    count = project["video"]["frame_count"]
    assert 0 < count < 12
    assert project["video"]["notes"] == [
        f"the file is cut short (truncated): only its first {count} frames are there, and "
        "those are used"
    ]
    frames = f"/api/projects/{project['id']}/frames"
    assert api.get(f"{frames}/{count - 1}").status_code == 200
    assert api.get(f"{frames}/{count}").status_code == 404
    assert (
        api.get(f"/api/projects/{project['id']}").json()["video"]["notes"]
        == (project["video"]["notes"])
    )


def test_the_clip_itself_is_accepted(api: httpx.Client, clip_bytes: bytes) -> None:
    """The corpus is built from this clip: untouched, it uploads fine."""
    response = api.post("/api/projects", files={"file": ("disk.mp4", clip_bytes, "video/mp4")})
    assert response.status_code == 201, response.text
    assert api.delete(f"/api/projects/{response.json()['id']}").status_code == 204


@pytest.fixture
def damaged(api: httpx.Client, tmp_path: Path) -> dict:
    """A project whose frame 5 is damaged (first and last are intact, so the upload passes)."""
    path = tmp_path / "damaged.avi"
    write_mjpeg_avi(path, [(96, 64)] * 12, damaged=frozenset({5}))
    return upload(api, path)


def test_a_damaged_frame_is_named_and_spares_the_others(api: httpx.Client, damaged: dict) -> None:
    frames = f"/api/projects/{damaged['id']}/frames"
    for _ in range(2):  # the answers do not depend on what was asked before
        response = api.get(f"{frames}/5")
        assert response.status_code == 422
        assert response.json()["detail"] == "frame 5 cannot be decoded (the file is damaged there)"
        assert api.get(f"{frames}/6").status_code == 200
        assert api.get(f"{frames}/4").status_code == 200


def test_a_job_meeting_a_damaged_frame_fails_naming_it(api: httpx.Client, damaged: dict) -> None:
    pid = damaged["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    points = {"points": [{"x": 30, "y": 32, "label": "positive"}]}
    assert api.put(f"/api/projects/{pid}/objects/{obj}/frames/2/points", json=points).is_success
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 11}).json()
    state = wait_job(api, job["id"], ENDED)
    assert state["status"] == "failed"
    assert "frame 5 cannot be decoded (the file is damaged there)" in state["error"]
    assert "Errno" not in state["error"] and "avcodec" not in state["error"]


def test_a_job_meeting_a_damaged_frame_keeps_every_frame_before_it(
    api: httpx.Client, damaged: dict
) -> None:
    """The frames still being encoded when frame 5 failed were dropped, and a resume meets
    frame 5 again, so they were lost for good: every frame before it is stored, resume or not."""
    pid = damaged["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    points = {"points": [{"x": 30, "y": 32, "label": "positive"}]}
    assert api.put(f"/api/projects/{pid}/objects/{obj}/frames/0/points", json=points).is_success
    jid = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 11}).json()["id"]

    for _ in range(2):  # the run, then its resume
        state = wait_job(api, jid, ENDED)
        assert (state["status"], state["frames_done"]) == ("failed", 5), state
        assert [api.get(f"/api/jobs/{jid}/alpha/{f}").status_code for f in range(6)] == [
            200, 200, 200, 200, 200, 404,
        ]  # fmt: skip
        archive = api.get(f"/api/jobs/{jid}/archive")
        assert archive.headers["x-vidmatte-frames"] == "0-4"
        assert api.post(f"/api/jobs/{jid}/resume").is_success


def test_damaged_audio_spares_a_video_exports_download(api: httpx.Client, tmp_path: Path) -> None:
    """The decoder's error on a damaged audio packet ended the export, and the streamed zip
    was cut off partway: the download completes, the damaged stretch silent."""
    source = make_source(tmp_path / "damaged_audio.mp4", 1.0, audio=True)
    damage_audio(source, 0.5, 4)
    pid = upload(api, source)["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    points = {"points": [{"x": 30, "y": 24, "label": "positive"}]}
    assert api.put(f"/api/projects/{pid}/objects/{obj}/frames/5/points", json=points).is_success
    jid = api.post(f"/api/projects/{pid}/jobs", json={"start": 5, "end": 24}).json()["id"]
    state = wait_job(api, jid, ENDED)
    assert state["status"] == "done", state
    response = api.get(f"/api/jobs/{jid}/archive", params={"formats": "alpha_mp4"})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    (name,) = archive.namelist()
    with av.open(archive.open(name)) as video:
        assert video.streams.audio
        assert len(list(video.decode(video.streams.video[0]))) == 20


@pytest.mark.parametrize(
    "size,message",
    [
        ((2, 2), "frames of 2x2 are too small: each side must be at least 16 pixels"),
        ((15, 64), "frames of 15x64 are too small: each side must be at least 16 pixels"),
        ((8000, 64), "frames of 8000x64 are too narrow: the long side may be at most 40 times"),
        ((64, 8000), "frames of 64x8000 are too narrow: the long side may be at most 40 times"),
    ],
)
def test_tiny_and_thin_videos_are_refused_naming_the_limits(
    api: httpx.Client, tmp_path: Path, size: tuple[int, int], message: str
) -> None:
    path = tmp_path / "odd.mkv"
    write_video(path, frames=2, width=size[0], height=size[1], codec="ffv1")
    response = api.post("/api/projects", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]


@pytest.mark.parametrize("size", [(16, 16), (640, 16), (16, 640)])
def test_videos_at_the_limits_are_accepted(
    api: httpx.Client, tmp_path: Path, size: tuple[int, int]
) -> None:
    path = tmp_path / "edge.mkv"
    write_video(path, frames=2, width=size[0], height=size[1], codec="ffv1")
    project = upload(api, path)
    assert (project["video"]["width"], project["video"]["height"]) == size


def test_a_video_is_read_as_its_name_says_at_upload_too(api: httpx.Client, tmp_path: Path) -> None:
    """FFmpeg picks its reader by the file's extension as well as its bytes. The upload was
    probed without one and stored with the user's: a raw MJPEG stream named .jpg was taken
    as a 30-frame video, then read as one picture, every frame after the first 'damaged'."""
    path = tmp_path / "camera.jpg"
    with av.open(str(path), "w", format="mjpeg") as container:
        stream = container.add_stream("mjpeg", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuvj420p"
        for i in range(6):
            rgb = np.full((64, 96, 3), 40 * i, np.uint8)
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj420p")
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    response = api.post("/api/projects", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        "cannot use 'camera.jpg': the file is a still image (image2), not a video"
    )
