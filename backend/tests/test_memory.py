"""The heap kept for the matting stage's next frame (memory.py): blocks it frees are reused,
not faulted in afresh. Each check runs in a process of its own: the setting is process-wide."""

from __future__ import annotations

import subprocess
import sys

# A frame's worth of blocks allocated, written and freed, four times over after a first
# round: the page faults of those four rounds. argv[1]: what the process does first.
ROUNDS = """
import resource, sys, threading
import numpy as np

if sys.argv[1] == "kept":
    from vidmatte.memory import keep_freed_memory
    assert keep_freed_memory()
elif sys.argv[1] == "matter":
    from vidmatte.matte.head import MattingHead
    from vidmatte.matte.infer import Matter
    Matter(MattingHead())

def frame():
    blocks = [np.ones(1 << 18) for _ in range(24)]  # 2 MB each, 48 MB in all
    del blocks

def rounds():
    frame()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        frame()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

rounds()
job = threading.Thread(target=rounds)  # as a job mattes: on a thread of its own
job.start()
job.join()
"""


def faults(first: str) -> list[int]:
    """The rounds' page faults on the main thread, then on another."""
    command = [sys.executable, "-c", ROUNDS, first]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [int(line) for line in done.stdout.split()]


def test_freed_blocks_are_reused_without_faulting_pages_in_again() -> None:
    """glibc's defaults give 48 MB freed at the heap's top back to the kernel, and every round
    faults its 12,288 pages in again (other threads' heaps some of theirs); kept, the rounds
    after the first fault none in, on any thread."""
    assert faults("default")[0] > 4 * 10_000
    assert all(n < 100 for n in faults("kept"))


def test_the_matting_stage_keeps_the_heap() -> None:
    """Whoever makes a `Matter` (the server, the CLI, a Ray worker, the benchmarks) gets it."""
    assert all(n < 100 for n in faults("matter"))
