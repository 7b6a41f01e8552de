"""`running_ahead`: the next item is made in a thread while the caller works on one (SAM2's
next frame while a job mattes one; a dataset build's next clip while it writes one).
`fed_ahead`: each frame is handed on once the next few of its pass were fed (a job's
background plates)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from vidmatte.ahead import fed_ahead, running_ahead

WAIT_S = 10.0  # far longer than any hand-over takes: a wait this long means it never came


class Steps:
    """Items 0..count-1 made one by one, recording which were made, in which thread, and
    whether the source was closed."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.made: list[int] = []
        self.threads: set[str] = set()
        self.closed = threading.Event()
        self.made_one = threading.Condition()

    def __iter__(self) -> Iterator[int]:
        try:
            for i in range(self.count):
                if i == self.fail_at:
                    raise ValueError(f"frame {i} cannot be tracked")
                with self.made_one:
                    self.made.append(i)
                    self.threads.add(threading.current_thread().name)
                    self.made_one.notify_all()
                yield i
        finally:
            self.closed.set()

    def wait_made(self, count: int, seconds: float = WAIT_S) -> bool:
        with self.made_one:
            return self.made_one.wait_for(lambda: len(self.made) >= count, seconds)


def test_the_next_item_is_made_while_the_caller_works_on_one() -> None:
    """SAM2 tracks frame N+1 in its own thread while frame N is matted: while the caller holds
    item 0, item 1 gets made (sequentially it would be made only when asked for), but not 2."""
    steps = Steps(5)
    ahead = running_ahead(steps)
    assert next(ahead) == 0
    assert steps.wait_made(2), steps.made  # made while the caller holds item 0
    assert not steps.wait_made(3, seconds=0.3), steps.made  # one ahead, no more
    assert list(ahead) == [1, 2, 3, 4]
    assert steps.threads == {"vidmatte-ahead"}
    assert steps.closed.is_set()


def test_an_error_making_an_item_is_raised_in_its_place() -> None:
    steps = Steps(5, fail_at=3)
    got: list[int] = []
    with pytest.raises(ValueError, match="frame 3 cannot be tracked"):
        for item in running_ahead(steps):
            got.append(item)
    assert got == [0, 1, 2]


def test_stopping_early_makes_no_more_and_closes_the_source() -> None:
    """A stopped job: once the caller lets go, the thread makes nothing more (at most the one it
    had in hand) and the source is closed before the caller goes on."""
    steps = Steps(100)
    ahead = running_ahead(steps)
    assert next(ahead) == 0
    assert steps.wait_made(2)
    ahead.close()
    assert steps.closed.is_set()
    assert steps.made == [0, 1]
    assert not any(t.name == "vidmatte-ahead" and t.is_alive() for t in threading.enumerate())


def test_each_frame_goes_on_once_the_next_ones_of_its_pass_are_fed() -> None:
    """A forward pass 4..7 then a backward one 3..0, two frames ahead: each frame is handed
    on after the two after it in its pass were fed, with what feeding it returned; the
    forward pass's last frames go on, with fewer fed after them, before the backward pass's
    first is fed."""
    events: list[str] = []

    def feed(frame: int, item: str) -> str:
        events.append(f"feed {frame}")
        return item.upper()

    frames = [(f, f"f{f}") for f in [4, 5, 6, 7, 3, 2, 1, 0]]
    for frame, item, fed in fed_ahead(frames, 2, feed):
        assert (item, fed) == (f"f{frame}", f"F{frame}")
        events.append(f"matte {frame}")
    assert events == [
        "feed 4", "feed 5", "feed 6", "matte 4", "feed 7", "matte 5", "matte 6", "matte 7",
        "feed 3", "feed 2", "feed 1", "matte 3", "feed 0", "matte 2", "matte 1", "matte 0",
    ]  # fmt: skip


def test_nothing_fed_ahead_hands_each_frame_on_at_once() -> None:
    events: list[str] = []
    for frame, _, _ in fed_ahead(
        [(0, None), (1, None)], 0, lambda f, _: events.append(f"feed {f}")
    ):
        events.append(f"matte {frame}")
    assert events == ["feed 0", "matte 0", "feed 1", "matte 1"]


class Halt(Exception):
    """A stop asked for: ends at once."""


@pytest.mark.parametrize("where", ["source", "feed"])
def test_a_damaged_frame_hands_on_the_frames_fed_before_it_then_is_raised(where: str) -> None:
    """A job with a background plate reads 8 frames ahead: a damaged frame there must not lose
    the frames before it, which are matted (with fewer fed after them) before its error."""
    events: list[str] = []

    def source() -> Iterator[tuple[int, None]]:
        for frame in range(5):
            if where == "source" and frame == 3:
                raise ValueError("frame 3 is damaged")
            yield frame, None

    def feed(frame: int, _item: None) -> None:
        if where == "feed" and frame == 3:
            raise ValueError("frame 3 is damaged")
        events.append(f"feed {frame}")

    with pytest.raises(ValueError, match="frame 3 is damaged"):
        for frame, _, _ in fed_ahead(source(), 8, feed, stops=(Halt,)):
            events.append(f"matte {frame}")
    assert events == ["feed 0", "feed 1", "feed 2", "matte 0", "matte 1", "matte 2"]


def test_a_stop_while_feeding_ahead_ends_at_once() -> None:
    """A stop is not an error of the input: nothing more is handed on."""
    matted: list[int] = []

    def feed(frame: int, _item: None) -> None:
        if frame == 3:
            raise Halt

    with pytest.raises(Halt):
        for frame, _, _ in fed_ahead(((f, None) for f in range(5)), 8, feed, stops=(Halt,)):
            matted.append(frame)
    assert matted == []
