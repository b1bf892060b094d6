"""Memory a training step reuses instead of page-faulting it in afresh every step.

A training step allocates and frees the same large arrays every step (activations, their
gradients). Until a process has freed a block of several MB, glibc's malloc gives each large
block a mapping of its own and returns freed memory at the top of its heap to the system, so
every step pays again a page fault (and the kernel's zeroing) for every page of every such
array: up to a third of a step.

Two remedies, one always on and one asked for:

- The kernels' big outputs (convolution, batch norm, pooling, relu, gelu, and matrix
  products) come from the library's own cache (`empty`, `empty_like`), 512 KiB and up: a
  buffer goes out again once no array uses it, so a step runs in the last step's memory.
  It holds at most 512 MiB; `empty_cache()` lets the free buffers go, as
  torch.cuda.empty_cache does. malloc itself is left alone.
- `keep_freed_memory()` asks glibc's malloc to keep every freed large block (the library
  never changes the allocator on its own: it is an opt-in, for a process you own). The cost:
  up to 512 MiB of freed memory stays with the process for the rest of its life. The same
  without code: MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ in the environment. Only
  glibc (Linux) has these knobs; elsewhere it does nothing.

    import tinygrad_edu
    tinygrad_edu.memory.keep_freed_memory()   # True: glibc agreed
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import threading

import numpy as np

__all__ = ["keep_freed_memory", "empty", "empty_like", "empty_cache", "cached", "cached_bytes"]

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


# ---- the library's own cache of big buffers ------------------------------------------------------
# The kernels' outputs (activations, their gradients) are the arrays a step makes and frees
# again; they come from here. A buffer is handed out again once no array on it is left (its
# reference count tells), so a step's big arrays are the last step's memory, already paged in,
# whatever malloc would have done with it.

_MIN_BYTES = 1 << 19  # 512 KiB (a transformer's feed-forward activations) and up; below,
# malloc's own bins serve them well
_LIMIT = 512 << 20  # the cache holds at most this much, in use or free
_CACHE: dict[int, list[np.ndarray]] = {}  # buffers (uint8) by size
_LOCK = threading.Lock()


def _free_one(bufs: list[np.ndarray]) -> np.ndarray | None:
    """A buffer of bufs no array uses: referred to only by the list, `b` and getrefcount."""
    for b in bufs:
        if sys.getrefcount(b) == 3:
            return b
    return None


def _held() -> int:
    return sum(n * len(bufs) for n, bufs in _CACHE.items())


def cached_bytes() -> int:
    """How many bytes the cache holds (buffers in use and free)."""
    with _LOCK:
        return _held()


def _drop_free() -> None:
    """Let the free buffers go (the lock held): those referred to by more than the list, `b`
    and getrefcount's argument are in use."""
    for bufs in _CACHE.values():
        bufs[:] = [b for b in bufs if sys.getrefcount(b) > 3]


def empty_cache() -> None:
    """Let go of the cache's free buffers (as torch.cuda.empty_cache)."""
    with _LOCK:
        _drop_free()


def cached(nbytes: int) -> bool:
    """Would a buffer of `nbytes` come from the cache (`empty`)?"""
    return nbytes >= _MIN_BYTES


def empty(shape, dtype) -> np.ndarray:
    """np.empty(shape, dtype); a big one reuses a buffer of the cache that no array uses."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _MIN_BYTES:
        return np.empty(shape, dtype)
    with _LOCK:
        bufs = _CACHE.setdefault(nbytes, [])
        buf = _free_one(bufs)
        if buf is None:
            if _held() + nbytes > _LIMIT:  # make room: the free buffers (of other sizes) go
                _drop_free()
                if _held() + nbytes > _LIMIT:
                    return np.empty(shape, dtype)
            buf = np.empty(nbytes, dtype=np.uint8)
            bufs.append(buf)
        # the view is made under the lock: until it exists the buffer looks free
        return buf.view(dtype).reshape(shape)


def empty_like(a: np.ndarray, dtype=None) -> np.ndarray:
    """np.empty_like(a, dtype): a's shape and memory layout, from the cache when big."""
    order = sorted(range(a.ndim), key=lambda i: -abs(a.strides[i]))  # outermost first
    out = empty([a.shape[i] for i in order], a.dtype if dtype is None else dtype)
    return out.transpose(np.argsort(order))
