"""A finished frame's mattes as one stored file: every object's own alpha, 16-bit.

A job stores one PNG per frame (`store.alpha_path`): the objects' mattes stacked top to bottom
in `matted_objects` order, as a 16-bit grey image of height objects x frame height (one file,
so a frame is stored whole or not at all; 16 bits, so soft edges keep the head's precision).
Jobs made before this stored one 8-bit matte, the union of their objects: such a file reads
back as that single matte.
"""

from __future__ import annotations

import collections
import io
import re
import unicodedata

import numpy as np
from PIL import Image

from vidmatte.media.export import NAME_PART_MAX
from vidmatte.store import Job

UNION = "union"  # the name of the union matte (the maximum of every object's)
# Names Windows keeps for devices, with any extension and in any case: no file or folder there
# may be called `CON` or `aux.txt`.
_DEVICES = frozenset(
    ["con", "prn", "aux", "nul", *(f"{port}{n}" for port in ("com", "lpt") for n in range(10))]
)


def matted_objects(job: Job) -> list[int]:
    """The job's objects that have prompts (those SAM2 tracks), in stored order."""
    return sorted({obj for obj, _frame in job.prompts})


# zlib's fastest level: a GT04 alpha at 1080p encodes in 47 ms against 99 at Pillow's default
# (6) and comes out 5% smaller, at 4K in 168 ms against 482 and 12% larger. On a GPU machine
# encoding, not the device, held 4K jobs back (bench/gpu.sh's `rest` column).
PNG_LEVEL = 1


def encode_mattes(alphas: list[np.ndarray]) -> bytes:
    """Float alphas (H, W) in [0, 1], one per object, to the stored 16-bit PNG."""
    stacked = np.concatenate(alphas, axis=0)
    buf = io.BytesIO()
    pixels = np.round(np.clip(stacked, 0, 1) * 65535).astype(np.uint16)
    Image.fromarray(pixels).save(buf, "PNG", compress_level=PNG_LEVEL)
    return buf.getvalue()


def decode_mattes(png: bytes, height: int) -> np.ndarray:
    """The stored mattes (N, H, W) float32 in [0, 1]: N objects, or 1 for an older job's
    8-bit union."""
    with Image.open(io.BytesIO(png)) as image:
        scale = 255 if image.mode == "L" else 65535
        pixels = np.asarray(image).astype(np.float32) / scale
    if pixels.shape[0] % height:
        raise ValueError(f"stored matte of {pixels.shape[0]} rows is not a stack of {height}")
    return pixels.reshape(-1, height, pixels.shape[1])


def layer_names(objects: list[tuple[int, str | None]]) -> dict[int, str]:
    """File-name-safe, distinct names for (object id, name) pairs: the name in ASCII letters,
    digits, '.', '_' and '-', cut to NAME_PART_MAX characters, or `object-<id>` when nothing
    is left of it; `-<id>` is added to a name used twice or to `union`, in any case: macOS and
    Windows ignore case in file names, and `Cat/` would overwrite `cat/` there. A suffixed
    name that another object has already (`a`, `a` and `a-5`) takes a further `-2`, `-3`...:
    two layers of one name wrote their files over each other. A Windows device name (`CON`,
    `aux.txt`) takes `-<id>` before its extension (`CON-1`, `aux-2.txt`): Windows can make no
    folder of that name."""
    safe = {}
    for obj, name in objects:
        ascii_name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
        cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._-")
        # Cut as any name from a user in a path (Windows' 259 characters), before names are
        # told apart: two long names alike in their first 40 would be one.
        cleaned = cleaned[:NAME_PART_MAX].rstrip("._-") or f"object-{obj}"
        base, dot, extension = cleaned.partition(".")
        safe[obj] = f"{base}-{obj}{dot}{extension}" if base.lower() in _DEVICES else cleaned
    counts = collections.Counter(name.lower() for name in safe.values())
    clash = {obj for obj, name in safe.items() if counts[name.lower()] > 1 or name.lower() == UNION}
    taken = {UNION} | {name.lower() for obj, name in safe.items() if obj not in clash}
    names = {}
    for obj, name in safe.items():
        names[obj] = _free_name(f"{name}-{obj}", taken) if obj in clash else name
    return names


def _free_name(name: str, taken: set[str]) -> str:
    """`name`, or `name-2`, `name-3`... the first not in `taken` (in any case), which it joins."""
    candidate, extra = name, 2
    while candidate.lower() in taken:
        candidate, extra = f"{name}-{extra}", extra + 1
    taken.add(candidate.lower())
    return candidate
