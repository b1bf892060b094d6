"""Keep freed arrays in the process for reuse, instead of page-faulting them in every step.

A training step allocates and frees the same large arrays every step (activations, their
gradients, a convolution's im2col rows). Until a process has freed a block of several MB,
glibc's malloc gives each large block a mapping of its own and returns freed memory at the
top of its heap to the system, so every step pays again a page fault (and the kernel's zeroing)
for every page of every such array: up to a third of a step. Loading a real dataset usually
frees such a block and so raises glibc's thresholds by itself; a loop over synthetic data does
not.

The library never changes the allocator on its own: `keep_freed_memory()` is an explicit
opt-in, for a process you own (a training script, a notebook). The cost: up to 512 MiB of
freed memory stays with the process instead of going back to the system, for the rest of its
life. The same without code: MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ in the
environment. Only glibc (Linux) has these knobs; elsewhere it does nothing.

    import tinygrad_edu
    tinygrad_edu.memory.keep_freed_memory()   # True: glibc agreed
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
MMAP = 256 << 20  # blocks up to 256 MiB come from the heap...
TRIM = 512 << 20  # ...and the heap's free top goes back to the system above 512 MiB


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed large blocks for reuse; True if it agreed.

    A MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ of your own in the environment wins:
    then nothing changes and the result is False.
    """
    if any(v in os.environ for v in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM))
