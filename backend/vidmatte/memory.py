"""The process's heap kept for the matting stage's next frame.

Each frame the matting stage frees and allocates again the same tens of megabytes (a 1080p
frame as floats is 25 MB). glibc's malloc hands freed blocks over about 128 KB back to the
kernel (unmapped, or the heap's top trimmed), and the next frame's allocation of the same
size faults every page in again, each zeroed by the kernel: on the 2-core CPU machine up
to 34,000 page faults in one 1080p frame (136 MB zeroed, 15 to 30 ms of a 0.45 s frame).
Blocks kept in the heap are reused as they are. Jobs matte on threads of their own, and
glibc gives each thread's arena heaps back to the kernel whatever the trim threshold, so
every thread shares the process's one heap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

# mallopt's parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Blocks below this come from the heap, not fresh mappings: glibc's largest mmap threshold on
# 64-bit systems. Larger blocks (a 4K frame as floats) are mapped afresh each time.
_HEAP_BLOCKS = 32 << 20
# The heap's top is given back only when this much lies free there: more than a frame frees.
_TRIM_ABOVE = 1 << 30


@cache
def keep_freed_memory() -> bool:
    """Have glibc's malloc keep freed blocks for reuse, in one heap for every thread; True
    where it took the settings, False elsewhere (another C library, another system). Once
    per process, before the threads that matte allocate: the heap then keeps up to
    `_TRIM_ABOVE` it no longer uses."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # no C library by that name, or no mallopt
        return False
    settings = (
        (_M_MMAP_THRESHOLD, _HEAP_BLOCKS),
        (_M_TRIM_THRESHOLD, _TRIM_ABOVE),
        (_M_ARENA_MAX, 1),
    )
    return all([bool(mallopt(name, value)) for name, value in settings])
