"""Work ahead of the caller. `running_ahead`: one item made ahead in a thread of its own while
the caller works on the one before: SAM2 tracks frame N+1 while a job mattes frame N
(jobs/pipeline.py), and a one-process dataset build makes the next clip while it writes one
(train/dataset.py). `fed_ahead`: each frame handed on once the next few were fed somewhere
(a background plate learns what the object uncovers next). Standard library only, so the GPU
training kit, which carries no SAM2, can import it."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


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


def fed_ahead(
    frames: Iterable[tuple[int, T]],
    ahead: int,
    feed: Callable[[int, T], R],
    stops: tuple[type[BaseException], ...] = (),
) -> Iterator[tuple[int, T, R]]:
    """(frame, item, what `feed(frame, item)` returned) for each of `frames` in order, each
    handed on once the `ahead` frames after it in its pass have been fed. Frames that do not
    follow each other (a backward pass after the forward one) start a new pass: the last
    frames of one go on with fewer fed after them, before the next one's first is fed. An
    error getting or feeding a frame (a damaged one) hands on the frames fed before it, then
    is raised, so they are not lost with it; one of `stops` (a stop asked for) ends at once."""
    window: deque[tuple[int, T, R]] = deque()
    last: int | None = None
    try:
        for frame, item in frames:
            if last is not None and abs(frame - last) != 1:
                while window:
                    yield window.popleft()
            last = frame
            window.append((frame, item, feed(frame, item)))
            if len(window) > ahead:
                yield window.popleft()
    except stops:
        raise
    except Exception:
        while window:
            yield window.popleft()
        raise
    while window:
        yield window.popleft()
