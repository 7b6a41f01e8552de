"""The job runners' shared queue (jobs/runner.py)."""

import threading

from vidmatte.jobs.runner import WaitingLine


def test_a_job_joining_again_goes_to_the_back_and_a_continued_run_to_the_front() -> None:
    line: WaitingLine[str] = WaitingLine()
    for job in ("a", "b", "c"):
        line.join(job)
    line.join("a")  # resumed after a cancel while queued: behind those queued before
    line.first("z")  # a run that lost its worker
    assert list(line) == ["z", "b", "c", "a"]
    assert [line.next() for _ in range(4)] == ["z", "b", "c", "a"]


def test_close_wakes_every_waiting_worker_with_none_and_keeps_what_waits() -> None:
    line: WaitingLine[str] = WaitingLine()
    got: list[str | None] = []
    workers = [threading.Thread(target=lambda: got.append(line.next())) for _ in range(3)]
    for w in workers:
        w.start()
    line.close()
    for w in workers:
        w.join(timeout=5)
    assert got == [None, None, None]
    line.join("a")
    assert line.next() is None and list(line) == ["a"]
