"""Small synthetic videos with known alpha, so tests need no external data."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import OpenEXR
from av.video.reformatter import ColorRange
from PIL import Image

from vidmatte.media.export import ExportFrame, write_archive
from vidmatte.media.video import VideoReader, probe
from vidmatte.store import Job, Point, Store


def write_alphamatting_photo(folder: Path, name: str = "GT04") -> Path:
    """`folder`/image/`name`.png and `folder`/alpha/`name`.png, as the shared alphamatting set
    lays them out: a 320x180 colour ramp and a soft-edged disc's alpha. Returns `folder`."""
    yy, xx = np.mgrid[:180, :320]
    alpha = np.clip((60 - np.hypot(yy - 90, xx - 160)) / 6, 0, 1)
    photo = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    for kind, picture in (("image", photo), ("alpha", (alpha * 255).astype(np.uint8))):
        (folder / kind).mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture).save(folder / kind / f"{name}.png")
    return folder


PATCH = 16  # each level of `patches_frame` a 16x16 patch: chroma subsampling blends none


def disk_alpha(
    height: int, width: int, cx: float, cy: float, radius: float, softness: float = 3.0
) -> np.ndarray:
    """A disk with a soft (linear ramp) edge: alpha in [0, 1], float32."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.hypot(xx - cx, yy - cy)
    return np.clip((radius - distance) / softness + 0.5, 0.0, 1.0).astype(np.float32)


def frame_and_alpha(index: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame `index` of a red disk moving right over a blue-grey checkerboard."""
    alpha = disk_alpha(
        height,
        width,
        cx=width * 0.3 + index * 2.0,
        cy=height * 0.5,
        radius=min(height, width) * 0.25,
    )
    yy, xx = np.mgrid[0:height, 0:width]
    checker = (((yy // 8) + (xx // 8)) % 2).astype(np.float32)
    background = np.stack([40 + 40 * checker, 60 + 40 * checker, 120 + 60 * checker], axis=-1)
    foreground = np.array([220.0, 40.0, 30.0])
    rgb = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
    return np.round(rgb).astype(np.uint8), alpha


def write_video(
    path: Path,
    frames: int = 12,
    width: int = 96,
    height: int = 64,
    fps: int | Fraction = 12,
    codec: str = "libx264",
    timecode: str | None = None,
) -> list[np.ndarray]:
    """Write the synthetic clip and return its ground-truth alphas. A `timecode` is the
    video's start timecode (a MOV or MP4 keeps it in a tmcd track, as cameras write it)."""
    alphas = []
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if timecode is not None:
            stream.metadata["timecode"] = timecode
        stream.options = {"crf": "10"} if codec == "libx264" else {}
        for i in range(frames):
            rgb, alpha = frame_and_alpha(i, height, width)
            alphas.append(alpha)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return alphas


def remux(source: Path, target: Path, shift_frames: int = 0) -> None:
    """Copy the video and audio packets of `source` into `target` (container from its suffix)
    unchanged, timestamps moved `shift_frames` video frames earlier. In an MP4, frames moved
    before 0 become what `ffmpeg -ss ... -c copy` writes: an edit list whose leading packets are
    decoded (the first one is the keyframe the rest need) but not shown."""
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        video = src.streams.video[0]
        shift = shift_frames / video.average_rate  # seconds
        streams = [video, *src.streams.audio[:1]]
        out = {s.index: dst.add_stream_from_template(s) for s in streams}
        for packet in src.demux(streams):
            if packet.dts is None:  # the demuxer's end-of-stream marker
                continue
            step = round(shift / packet.time_base)
            packet.pts -= step
            packet.dts -= step
            packet.stream = out[packet.stream.index]
            dst.mux(packet)


def write_flash_clip(
    path: Path, times: list[Fraction], flash: int, audio_codec: str = "aac", rate: int = 48000
) -> None:
    """A 64x48 H.264 clip of grey frames shown at `times` (seconds; variable frame rate when the
    steps differ) but for frame `flash`, which is white, and an audio track that is silent but
    for a 1 kHz tone starting at `times[flash]`: picture and sound mark the same instant."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=Fraction(25))
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.time_base = video.codec_context.time_base = Fraction(1, 1000)
        sound = container.add_stream(audio_codec, rate=rate)
        sound.layout = "mono"
        for i, t in enumerate(times):
            level = 235 if i == flash else 60
            picture = av.VideoFrame.from_ndarray(np.full((48, 64, 3), level, np.uint8), "rgb24")
            picture.pts, picture.time_base = round(t * 1000), Fraction(1, 1000)
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        clock = np.arange(round((float(times[-1]) + 0.5) * rate)) / rate
        beep = (clock >= float(times[flash])) & (clock < float(times[flash]) + 0.2)
        wave = np.where(beep, 0.5 * np.sin(2 * np.pi * 1000 * clock), 0.0).astype(np.float32)
        fmt = sound.codec_context.format.name
        resampler = av.AudioResampler(fmt, "mono", rate, frame_size=sound.codec_context.frame_size)
        block = av.AudioFrame.from_ndarray(wave[None], "fltp", "mono")
        block.sample_rate, block.pts, block.time_base = rate, 0, Fraction(1, rate)
        for piece in resampler.resample(block) + resampler.resample(None):
            container.mux(sound.encode(piece))
        container.mux(sound.encode(None))


def write_mjpeg_avi(
    path: Path,
    sizes: list[tuple[int, int]],
    damaged: frozenset[int] = frozenset(),
    fps: int = 12,
) -> None:
    """An MJPEG AVI whose header says `sizes[0]` (width, height) while frame i is encoded at
    `sizes[i]`; the frames in `damaged` are replaced by bytes no decoder accepts."""
    width, height = sizes[0]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        for i, (w, h) in enumerate(sizes):
            encoder = av.CodecContext.create("mjpeg", "w")
            encoder.width, encoder.height, encoder.pix_fmt = w, h, "yuvj420p"
            encoder.time_base = Fraction(1, fps)
            rgb, _ = frame_and_alpha(i, h, w)
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj420p")
            picture.pts = i
            for encoded in encoder.encode(picture):
                packet = av.Packet(b"\xff\xd8 not a picture " * 40) if i in damaged else encoded
                packet.stream, packet.pts, packet.dts = stream, i, i
                packet.time_base = Fraction(1, fps)
                container.mux(packet)


# Linear BT.709 RGB to linear BT.2020 RGB (ITU-R BT.2087), rows the output.
BT709_TO_BT2020 = np.array(
    [[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]]
)


def pq_signal(nits: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084's inverse EOTF: cd/m² to PQ's 0..1."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (np.asarray(nits, np.float64) / 10000) ** m1
    return ((c1 + c2 * y) / (1 + c3 * y)) ** m2


def hlg_signal(scene: np.ndarray) -> np.ndarray:
    """ITU-R BT.2100's HLG OETF: scene light 0..1 to HLG's 0..1."""
    a = 0.17883277
    b, c = 1 - 4 * a, 0.5 - a * np.log(4 * a)
    scene = np.asarray(scene, np.float64)
    return np.where(
        scene <= 1 / 12, np.sqrt(3 * scene), a * np.log(np.maximum(12 * scene - b, 1e-12)) + c
    )


def pq_nits(signal: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084's EOTF, `pq_signal`'s inverse: PQ's 0..1 to cd/m²."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = np.asarray(signal, np.float64) ** (1 / m2)
    return 10000 * (np.maximum(p - c1, 0) / (c2 - c3 * p)) ** (1 / m1)


def write_noisy_clip(
    path: Path,
    codec: str,
    frames: int = 24,
    fmt: str | None = None,
    options: dict[str, str] | None = None,
) -> list[np.ndarray]:
    """`frames` frames of noise (large: a cut lands inside one) at 12 fps, in `fmt` (else by
    the name's extension) with the muxer's `options`, and their decode."""
    with av.open(str(path), "w", format=fmt, options=options or {}) as container:
        stream = container.add_stream(codec, rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        noise = np.random.default_rng(5)
        for _ in range(frames):
            rgb = noise.integers(0, 256, (64, 96, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def patches_frame(pix_fmt: str, codes: Sequence[int]) -> av.VideoFrame:
    """A PATCH-row frame of `pix_fmt` of grey patches side by side, PATCH wide, at luma (Y or
    grey) `codes`: chroma neutral, alpha opaque, samples in the format's byte order, a plane
    that holds several components (ya8's Y and A) interleaved."""
    fmt = av.VideoFormat(pix_fmt)
    bits = fmt.components[0].bits
    sample = np.dtype((">u2" if pix_fmt.endswith("be") else "<u2") if bits > 8 else "u1")
    frame = av.VideoFrame(PATCH * len(codes), PATCH, pix_fmt)
    for index, plane in enumerate(frame.planes):
        samples = []
        for number, component in enumerate(fmt.components):
            if component.plane != index:
                continue
            if component.is_alpha:
                value = np.full(plane.width, (1 << bits) - 1)
            elif number == 0:
                value = np.repeat(np.asarray(codes), plane.width // len(codes))
            else:  # Cb, Cr
                value = np.full(plane.width, 1 << (bits - 1))
            samples.append(value)
        rows = np.zeros((plane.height, plane.line_size // sample.itemsize), sample)
        pixels = np.stack(samples, -1).reshape(-1)
        rows[:, : pixels.size] = pixels
        plane.update(rows.tobytes())
    return frame


def levels(pix_fmt: str, full: bool) -> tuple[list[int], list[float]]:
    """Y codes of black, a grey and white in the format's range, and the 0..1 each stands for."""
    bits = av.VideoFormat(pix_fmt).components[0].bits
    if full:
        black, white = 0, (1 << bits) - 1
    else:
        black, white = 16 << (bits - 8), 235 << (bits - 8)
    codes = [black, black + (white - black) // 3, white]
    return codes, [(code - black) / (white - black) for code in codes]


def read_patches(path: Path, deep: bool, tone_map: bool = False) -> np.ndarray:
    """Each patch's centre pixel, as the reader gives it (N, 3)."""
    info, pts = probe(path)
    frame = VideoReader(path, pts, info.rotation, tone_map=tone_map, deep=deep).frame(0)
    return frame[PATCH // 2, PATCH // 2 :: PATCH].astype(np.int64)


def rgb_picture(
    rgb: np.ndarray, pix_fmt: str, matrix: int, color_range: int = ColorRange.MPEG
) -> av.VideoFrame:
    """Full-range `rgb` (uint8 or uint16, HxWx3) as a `pix_fmt` frame, YUV of `matrix` in
    `color_range`."""
    source = "rgb24" if rgb.dtype == np.uint8 else "rgb48le"
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format=source).reformat(
        format=pix_fmt,
        src_color_range=ColorRange.JPEG,
        dst_colorspace=matrix,
        dst_color_range=color_range,
    )


def write_clip(path: Path, picture: av.VideoFrame, codec: str = "ffv1", **colour: int) -> None:
    """A one-frame clip of `picture` at 10 fps, lossless (FFV1) unless `codec`, its stream
    tagged with `colour` (the codec context's color_range, colorspace, color_primaries,
    color_trc)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(10))
        stream.width, stream.height = picture.width, picture.height
        stream.pix_fmt = picture.format.name
        for name, value in colour.items():
            setattr(stream.codec_context, name, value)
        for packet in [*stream.encode(picture), *stream.encode()]:
            container.mux(packet)


def srgb8(light: np.ndarray) -> np.ndarray:
    """Linear light as 8-bit sRGB (IEC 61966-2-1), clipped: written apart from the code's."""
    light = np.clip(light, 0.0, 1.0)
    encoded = np.where(light <= 0.0031308, light * 12.92, 1.055 * light ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255)


def export_frame(
    rgb: np.ndarray, alpha: np.ndarray | None = None, primaries: int = 1, transfer: int = 1
) -> ExportFrame:
    """Frame 0 at time 0 of `rgb` under `alpha` (opaque 16-bit by default), tagged
    `primaries` and `transfer`."""
    if alpha is None:
        alpha = np.full(rgb.shape[:2], 65535, np.uint16)
    return ExportFrame(0, Fraction(0), rgb, alpha, primaries=primaries, transfer=transfer)


def exr_rgb(frame: ExportFrame, tmp_path: Path) -> np.ndarray:
    """The R, G, B of `frame`'s EXR export (float64, HxWx3)."""
    out = io.BytesIO()
    write_archive(out, frames=iter([frame]), formats=["exr"], fps=25)
    path = tmp_path / "frame.exr"
    path.write_bytes(zipfile.ZipFile(out).read("exr/000000.exr"))
    with OpenEXR.File(str(path), separate_channels=True) as image:
        return np.dstack([image.channels()[c].pixels for c in "RGB"]).astype(np.float64)


def running_job(store: Store, project_id: str, start: int, end: int, at: tuple[int, int]) -> Job:
    """A job of frames `start`..`end`, running (its frames saved by the test), on a new object
    of the project with a positive point `at` on frame `start`."""
    obj = store.add_object(project_id, None, None)["id"]
    store.set_points(project_id, obj, start, [Point(*at, "positive")])
    job = store.add_job(project_id, start, end, [obj], edges="none", head="", sam2="")
    return store.transition(job.id, "running")
