"""Intra-op threads: the library's big passes and matrix products, split over `set_num_threads`
threads (as torch.set_num_threads: the threads one op may use).

numpy runs every loop on one core. torch splits its elementwise passes, copies, reductions and
matrix products over its intra-op threads, and so do we: a kernel cuts its work along the batch
into one piece per thread and runs the pieces at once with `each`; `matmul` does so with the
rows of a big product. numpy releases the GIL inside its loops, so Python threads really do run
them side by side.

BLAS is held to one thread inside every such call: each piece's products run on its own core.
So BLAS's own threads get no work from the library, which matters more than it seems: after a
product they spin for a while waiting for the next one, and a spinning BLAS thread halves the
core a piece of ours runs on (a CNN step ran 31 against 25 ms). numpy calls of your own still
use BLAS's threads. All this needs numpy's OpenBLAS within reach (blas.py); without it there is
one thread, as numpy alone has.

One region runs at a time: a piece that calls `each` again, or a second Python thread while a
region runs, works serially, in its own thread.

    sums = each(lambda s: x[s].sum(0), len(x), work=x.size)   # a partial sum per thread
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from . import blas as _blas
from .blas import _openblas

__all__ = ["set_num_threads", "get_num_threads", "each", "rows", "matmul", "pieces"]

T = TypeVar("T")

# Passes over fewer elements than this are done before a woken thread would have started.
_MIN_WORK = 1 << 16
# BLAS does a multiply-add about 32 times faster than numpy passes over an element.
_FLOPS_PER_ELEMENT = 32

_REGION = threading.Lock()  # one region at a time
_THREADS: list[int] = []  # the intra-op thread count: BLAS's at first use, or set_num_threads'
_POOL: dict[int, concurrent.futures.ThreadPoolExecutor] = {}  # by size, made at first use


def set_num_threads(n: int) -> None:
    """Use `n` threads in each op from now on (as torch.set_num_threads); numpy's BLAS gets
    n threads too, for numpy calls of your own."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    _blas.set_threads(n)
    _THREADS[:] = [n]


def get_num_threads() -> int:
    """How many threads each op uses: at first, as many as numpy's BLAS has (so
    OMP_NUM_THREADS and OPENBLAS_NUM_THREADS count); 1 without OpenBLAS."""
    if not _THREADS:
        _THREADS.append(_blas.get_threads() if _openblas() is not None else 1)
    return _THREADS[0]


def pieces(n: int, k: int) -> list[slice]:
    """range(n) cut into min(k, n) contiguous slices whose lengths differ by at most one."""
    k = max(1, min(k, n))
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


def _workers(size: int) -> concurrent.futures.ThreadPoolExecutor:
    """The pool of `size` threads (one of another size is let go)."""
    if size not in _POOL:
        for old in _POOL.values():
            old.shutdown(wait=False)
        _POOL.clear()
        _POOL[size] = concurrent.futures.ThreadPoolExecutor(size, thread_name_prefix="tinygrad_edu")
    return _POOL[size]


def each(fn: Callable[[slice], T], n: int, work: int) -> list[T]:
    """[fn(s) for s in pieces(n, get_num_threads())], the pieces run at once, BLAS on one thread.

    `work` is how many elements the whole pass touches: a small pass is one piece. The
    calling thread runs the first piece; the results come back in order.
    """
    blas = _openblas()
    if blas is None or not _REGION.acquire(blocking=False):
        return [fn(slice(0, n))]
    try:
        before, k = blas.get_threads(), get_num_threads()
        blas.set_threads(1)
        try:
            if k < 2 or n < 2 or work < _MIN_WORK:
                return [fn(slice(0, n))]
            parts = pieces(n, k)
            futures = [_workers(k - 1).submit(fn, s) for s in parts[1:]]
            try:
                first = fn(parts[0])
            finally:
                concurrent.futures.wait(futures)
            return [first] + [f.result() for f in futures]
        finally:
            blas.set_threads(before)
    finally:
        _REGION.release()


def rows(fn: Callable[..., T], *arrays: np.ndarray) -> list[T]:
    """`each` along dim 0 of arrays of one length: fn(a[s], b[s], ...) for each piece s.

        rows(lambda o, x: np.maximum(x, 0, out=o), out, x)   # relu into out, in parallel
    """
    # (a list, not a generator: CPython 3.11 leaks a little with each generator unpacked here)
    return each(lambda s: fn(*[a[s] for a in arrays]), len(arrays[0]), arrays[0].size)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> Any:
    """np.matmul(a, b, out=out), the rows of a big product shared among the threads (or, for
    stacks of matrices on both sides, the stack)."""
    if a.ndim < 2 or b.ndim < 2 or a.dtype != b.dtype or a.dtype.kind != "f":
        return each(lambda s: np.matmul(a, b, out=out), 1, 0)[0]
    stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if out is None:
        out = np.empty((*stack, a.shape[-2], b.shape[-1]), dtype=a.dtype)
    work = out.size * a.shape[-1] // _FLOPS_PER_ELEMENT
    if a.ndim == 2 or b.ndim == 2:  # one matrix on a side: a's rows
        def rows(s):
            np.matmul(a[..., s, :], b, out=out[..., s, :])
        each(rows, a.shape[-2], work)
    elif a.shape[:-2] == b.shape[:-2]:  # two stacks of equal shape: the first stack dim
        def stacks(s):
            np.matmul(a[s], b[s], out=out[s])
        each(stacks, a.shape[0], work)
    else:
        each(lambda s: np.matmul(a, b, out=out), 1, 0)
    return out
