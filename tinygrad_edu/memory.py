"""Freed arrays kept for reuse by malloc, as PyTorch's caching allocators keep theirs.

A training step allocates and frees the same large arrays every step (activations, their
gradients, a convolution's im2col rows). glibc's malloc gives each block above a threshold a
fresh mapping of its own and unmaps it when it is freed, so every step pays again a page fault
(and the kernel's zeroing) for every page of every such array: a third of a CNN training step.
`keep_freed_memory()`, run when tinygrad_edu is imported, raises malloc's mmap and trim
thresholds, so that freed blocks stay in the heap and the next step reuses them.

The cost: freed memory stays with the process (up to `TRIM` bytes of it) instead of going
back to the system. Set TINYGRAD_EDU_MALLOC=system before the import to leave malloc as it is
(as does a MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ of your own). Only glibc (Linux)
has these knobs; elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
MMAP = 256 << 20  # blocks up to 256 MiB come from the heap...
TRIM = 512 << 20  # ...and the heap's free top goes back to the system above 512 MiB


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed large blocks for reuse; True if it agreed."""
    if os.environ.get("TINYGRAD_EDU_MALLOC") == "system" or any(
            v in os.environ for v in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM))
