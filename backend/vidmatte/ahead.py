"""One item made ahead in a thread of its own while the caller works on the one before: SAM2
tracks frame N+1 while a job mattes frame N (jobs/pipeline.py), and a one-process dataset
build makes the next clip while it writes one (train/dataset.py). Standard library only, so
the GPU training kit, which carries no SAM2, can import it."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def running_ahead(
    items: Iterable[T], ahead: bool = True, name: str = "vidmatte-ahead"
) -> Iterator[T]:
    """`items` in order, each next one made in a thread of its own while the caller works on
    the one before (SAM2 tracks frame N+1 while frame N is matted): one at most is made ahead.
    An error making one is raised here, in its place. When the caller stops early (a Stopped,
    an error, a closed generator), the thread finishes the item in hand, makes no more, and
    `items` is closed, all before this returns: nothing of the caller's work runs on after
    it. The thread is called `name`. Not `ahead`: each is made when asked for, in the caller's
    thread."""
    if not ahead:
        yield from items
        return
    source = iter(items)
    handed: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
    wanted = threading.Semaphore(1)  # released as the caller takes one: make the next
    halt = threading.Event()

    def make() -> None:
        try:
            while _acquired(wanted, halt):
                try:
                    item = next(source)
                except StopIteration:
                    handed.put((False, None))
                    return
                handed.put((True, item))
        except BaseException as error:  # raised in the caller's thread instead
            handed.put((False, error))

    maker = threading.Thread(target=make, name=name, daemon=True)
    maker.start()
    try:
        while True:
            ok, value = handed.get()
            if ok:
                wanted.release()
                yield value  # type: ignore[misc]  # an item of `items`
            elif value is None:
                return
            else:
                raise value  # type: ignore[misc]  # the BaseException from `make`
    finally:
        halt.set()
        maker.join()
        if hasattr(source, "close"):
            source.close()


def _acquired(semaphore: threading.Semaphore, halt: threading.Event) -> bool:
    """Wait for `semaphore` until `halt` is set: whether it was acquired."""
    while not halt.is_set():
        if semaphore.acquire(timeout=0.05):
            return True
    return False
