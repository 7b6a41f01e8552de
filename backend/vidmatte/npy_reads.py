"""numpy's .npy and .npz files read one thread at a time.

numpy parses a .npy header with ast.literal_eval, and CPython 3.11's AST constructor keeps one
recursion count for all threads (python/cpython#106905): two threads parsing at once can fail
with "SystemError: AST constructor recursion depth mismatch" (CI met it in
train/dataset.read_clips' threads). Every read of such a file holds `NPY_READS` (reentrant: a
read may call another): the dataset's clips and the store's frame indexes.
"""

from __future__ import annotations

import threading

NPY_READS = threading.RLock()
