"""Errors as users see them: no server paths, bounded length.

Anyone with the token reads job errors and error answers (issue 12), so neither may say where
the server keeps its files.
"""

from __future__ import annotations

import re

from vidmatte.media.video import MediaError
from vidmatte.store import is_disk_full

_STOP = r"\s'\"`<>()\[\]{},;"
# An absolute POSIX path of two or more parts (not a URL's `//host` nor an /api/ route), a
# Windows path, or a relative one of three or more parts; the file's own name is kept.
_PATH = re.compile(
    rf"(?<![\w:/.~-])(?!/api/)(?:/[^{_STOP}/:]+){{2,}}/?"
    rf"|\b[A-Za-z]:\\(?:[^{_STOP}\\]+\\?)+"
    rf"|(?<![\w/.-])[\w.-]+(?:/[\w.-]+){{2,}}"
)


def redact_paths(text: str, roots: tuple[str, ...] = ()) -> str:
    """Server paths out of a message: the data dir by name, any other path down to its file
    name (`.../source.mp4`), so an answer still says which file without saying where."""
    for root in roots:
        text = text.replace(root, "<data dir>")
    return _PATH.sub(lambda m: ".../" + re.split(r"[\\/]", m.group(0).rstrip("/\\"))[-1], text)


def public_error(exc: BaseException) -> str:
    """A job's error as users see it: the kind and message, paths taken out, bounded."""
    text = redact_paths(f"{type(exc).__name__}: {exc}")
    return text if len(text) <= 500 else text[:499] + "…"


DISK_FULL = "not enough disk space in the data dir"


def describe(exc: BaseException, retry: str = "resume the job") -> str:
    """A job's or track's error for the user: what went wrong, and what to do (`retry`) when
    there is something. Never a server path."""
    if is_disk_full(exc):
        return f"{DISK_FULL}: free some space, then {retry}"
    if isinstance(exc, MediaError):  # already says which frame and why, for the user
        return str(exc)
    return public_error(exc)
