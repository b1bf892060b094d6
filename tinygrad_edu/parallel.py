"""Intra-op threads: the library's big passes and matrix products, split over `set_num_threads`
threads (as torch.set_num_threads: the threads one op may use).

numpy runs every loop on one core. torch splits its elementwise passes, copies, reductions and
matrix products over its intra-op threads, and so do we: a kernel cuts its work along the batch
into one piece per thread and runs the pieces at once with `each`; `matmul` does so with the
rows of a big product. numpy releases the GIL inside its loops, so Python threads really do run
them side by side. Handing a piece to a thread costs about 20 us, so only passes over
`_MIN_WORK` elements or more are split.

BLAS is held to one thread inside the pieces: each piece's products run on its own core. And
BLAS's own threads, after a product, spin for about 0.1 s waiting for the next one, taking half
the core a piece of ours runs on (a CNN step ran 35 against 25 ms). So where a kernel's pieces
have run in the last `_QUIET` seconds, the library's products keep BLAS on one thread too, a
big one split among our threads instead; elsewhere (an MLP's, a transformer's or an LSTM's
smaller arrays) BLAS threads them as numpy would, which beats any handing over of ours. numpy
calls of your own always use BLAS's threads. All this needs numpy's OpenBLAS within reach
(blas.py); without it there is one thread, as numpy alone has.

One region runs at a time: a piece that calls `each` again, or a second Python thread while a
region runs, works serially, in its own thread.

    sums = each(lambda s: x[s].sum(0), len(x), work=x.size)   # a partial sum per thread
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from . import blas as _blas
from .blas import _openblas
from .memory import cached, empty

__all__ = ["set_num_threads", "get_num_threads", "each", "rows", "matmul", "pieces", "splits"]

T = TypeVar("T")

# Passes over fewer elements than this take less than ~0.2 ms: not worth a thread's 20 us.
_MIN_WORK = 1 << 19
# BLAS does a multiply-add about 32 times faster than numpy passes over an element.
_FLOPS_PER_ELEMENT = 32
# How long BLAS's threads spin after a product (OpenBLAS: 2^28 cycles): products stay on one
# thread this long after pieces of ours have run.
_QUIET = 0.2

_REGION = threading.Lock()  # one region at a time
_THREADS: list[int] = []  # the intra-op thread count: BLAS's at first use, or set_num_threads'
_WORKERS: list[_Worker] = []  # started as needed, kept
_LAST_SPLIT = [-1e9]  # when pieces last ran on several threads (time.monotonic)


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


class _Worker(threading.Thread):
    """A thread that runs one piece at a time: handed over and back by two locks, the
    lightest wake-up Python has (a pool's queue and futures cost three times as much)."""

    def __init__(self) -> None:
        super().__init__(name="tinygrad_edu-worker", daemon=True)
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.task: tuple[Callable[[slice], Any], slice] | None = None
        self.result: tuple[bool, Any] = (True, None)
        self.start()

    def run(self) -> None:
        while True:
            self.go.acquire()
            fn, s = self.task
            try:
                self.result = (True, fn(s))
            except BaseException as err:  # handed back, raised in the caller
                self.result = (False, err)
            self.task = None
            self.done.release()

    def hand(self, fn: Callable[[slice], Any], s: slice) -> None:
        self.task = (fn, s)
        self.go.release()

    def take(self) -> Any:
        self.done.acquire()
        ok, value = self.result
        self.result = (True, None)
        if not ok:
            raise value
        return value


def each(fn: Callable[[slice], T], n: int, work: int, *, products: bool = False) -> list[T]:
    """[fn(s) for s in pieces(n, get_num_threads())], the pieces run at once, BLAS on one
    thread. `work` is how many elements the whole pass touches: a small pass is one piece.
    The calling thread runs the first piece; the results come back in order.

    products=True: the pieces are BLAS products (a big product's rows, a sum as a product
    with ones), not a kernel's passes; the library's products after them go on as before
    instead of keeping to one thread for a while (see above).
    """
    if n < 2 or not splits(work):  # small: as it is, at once
        return [fn(slice(0, n))]
    with _region() as held:
        if not held:  # inside a region: serially
            return [fn(slice(0, n))]
        if not products:
            _LAST_SPLIT[0] = time.monotonic()
        parts = pieces(n, get_num_threads())
        while len(_WORKERS) < len(parts) - 1:
            _WORKERS.append(_Worker())
        handed = _WORKERS[:len(parts) - 1]
        for w, s in zip(handed, parts[1:]):
            w.hand(fn, s)
        try:
            first = fn(parts[0])
        finally:
            results = []
            failure = None
            for w in handed:  # every piece is waited for, whatever failed
                try:
                    results.append(w.take())
                except BaseException as err:
                    failure = failure or err
        if failure is not None:
            raise failure
        return [first, *results]


def splits(work: int) -> bool:
    """Would `each` split a pass over `work` elements (several threads, and work enough)?"""
    return work >= _MIN_WORK and get_num_threads() > 1


@contextlib.contextmanager
def _region() -> Iterator[bool]:
    """The one region, BLAS held to one thread in it: yields False (and holds nothing) when
    another region runs, or without OpenBLAS."""
    blas = _openblas()
    if blas is None or not _REGION.acquire(blocking=False):
        yield False
        return
    try:
        before = blas.get_threads()
        blas.set_threads(1)
        try:
            yield True
        finally:
            blas.set_threads(before)
    finally:
        _REGION.release()


def _one_thread(fn: Callable[[], T]) -> T:
    """fn() with BLAS held to one thread (as it already is inside a region)."""
    with _region():
        return fn()


def rows(fn: Callable[..., T], *arrays: np.ndarray) -> list[T]:
    """`each` along dim 0 of arrays of one length: fn(a[s], b[s], ...) for each piece s.

        rows(lambda o, x: np.maximum(x, 0, out=o), out, x)   # relu into out, in parallel
    """
    if arrays[0].ndim == 0:  # nothing to cut
        return [fn(*arrays)]
    # (a list, not a generator: CPython 3.11 leaks a little with each generator unpacked here)
    return each(lambda s: fn(*[a[s] for a in arrays]), len(arrays[0]), arrays[0].size)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> Any:
    """np.matmul(a, b, out=out): as numpy runs it (BLAS's threads), but where a kernel's pieces
    have run lately (see above) on one thread, a big product's rows (or, for two stacks of
    matrices, its stack) split among the library's threads. A big matrix product's output
    comes from the kernels' buffer cache (memory.py)."""
    if a.ndim > 2 and b.ndim == 2 and (out is None or out.flags.c_contiguous):
        # a stack of matrices times one matrix: one product of all their rows (numpy would
        # make one small product per matrix: 4x slower for a transformer's (32, 16, 64) @ W)
        flat = matmul(a.reshape(-1, a.shape[-1]), b,
                      None if out is None else out.reshape(-1, out.shape[-1]))
        return flat.reshape(*a.shape[:-1], b.shape[-1]) if out is None else out
    if (out is None and a.ndim == b.ndim == 2 and a.dtype == b.dtype and a.dtype.kind == "f"
            and cached(a.shape[0] * b.shape[1] * a.itemsize)):
        out = empty((a.shape[0], b.shape[1]), a.dtype)  # a big one from the cache (memory.py)
    if time.monotonic() - _LAST_SPLIT[0] > _QUIET:  # BLAS threads it, as in numpy
        return np.matmul(a, b, out=out)
    work = _matmul_work(a, b)
    if work is None or work < _MIN_WORK:  # on one thread
        return _one_thread(lambda: np.matmul(a, b, out=out))
    if a.ndim == 2 and b.ndim == 1:  # a matrix times a vector: a's rows
        if out is None:
            out = np.empty(a.shape[0], dtype=a.dtype)
        each(lambda s: np.matmul(a[s], b, out=out[s]), a.shape[0], work, products=True)
        return out
    if out is None:
        stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        out = np.empty((*stack, a.shape[-2], b.shape[-1]), dtype=a.dtype)
    if a.ndim == 2 or b.ndim == 2:  # one matrix on a side: a's rows
        def by_rows(s):
            np.matmul(a[..., s, :], b, out=out[..., s, :])
        each(by_rows, a.shape[-2], work, products=True)
    else:  # two stacks of equal shape: the first stack dim
        def by_stack(s):
            np.matmul(a[s], b[s], out=out[s])
        each(by_stack, a.shape[0], work, products=True)
    return out


def _matmul_work(a: np.ndarray, b: np.ndarray) -> int | None:
    """The product's multiply-adds, in element passes (a matrix times a vector: a's size);
    None for what is not split (a vector times a matrix, integers, mixed dtypes, stacks
    that broadcast)."""
    if a.dtype != b.dtype or a.dtype.kind != "f":
        return None
    if a.ndim == 2 and b.ndim == 1:  # a pass over a, as BLAS makes it
        return a.size
    if a.ndim < 2 or b.ndim < 2:
        return None
    if a.ndim > 2 and b.ndim > 2 and a.shape[:-2] != b.shape[:-2]:
        return None
    stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    count = int(np.prod(stack)) * a.shape[-2] * a.shape[-1] * b.shape[-1]
    return count // _FLOPS_PER_ELEMENT
