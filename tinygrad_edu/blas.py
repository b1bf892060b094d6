"""numpy's BLAS, which does every matrix product here: how many threads it uses
(`set_threads` / `get_threads`) and whether its kernels fit this CPU (`info`).

`tinygrad_edu.set_num_threads` (parallel.py) sets BLAS's threads too; inside the library's
split kernels BLAS is held to one thread (parallel.py says when and why). With threadpoolctl
installed (`pip install threadpoolctl`) that is used, whatever the BLAS; without it the
OpenBLAS that numpy loaded (numpy's wheels bundle one) is called directly, found among the
process's loaded libraries.

OpenBLAS picks its kernels when it loads: from the CPU's model, or from the environment
variable OPENBLAS_CORETYPE when that is set (some machines set it, because old OpenBLAS builds
misbehaved on their CPUs). Kernels older than the CPU can cost
half the speed of every matrix product (AVX2 kernels on an AVX-512 CPU, measured here), and
nothing else says so: `info()` does. The choice is made once, so changing it means starting
Python again with the variable changed or unset.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

import numpy as np

__all__ = ["set_threads", "get_threads", "info", "transpose"]

_OPENBLAS: list[Any] = []  # [_OpenBLAS] once looked up, [None] when numpy's BLAS is another

# The AVX-512 instructions OpenBLAS's SkylakeX kernels use, as /proc/cpuinfo names them.
_AVX512 = frozenset({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})
# OpenBLAS's x86 kernels that stop short of AVX-512.
_BELOW_AVX512 = frozenset({"prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge",
                           "haswell", "zen", "barcelona", "bulldozer", "piledriver",
                           "steamroller", "excavator"})


class _OpenBLAS:
    """The OpenBLAS numpy loaded, and the few of its functions we call."""

    def __init__(self, lib: ctypes.CDLL, prefix: str, suffix: str) -> None:
        self.get_threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
        self.set_threads = getattr(lib, f"{prefix}_set_num_threads{suffix}")
        self.corename = getattr(lib, f"{prefix}_get_corename{suffix}", None)
        self.config = getattr(lib, f"{prefix}_get_config{suffix}", None)
        for f in (self.corename, self.config):
            if f is not None:
                f.restype = ctypes.c_char_p
        # OpenBLAS's out-of-place transposes (an extension of BLAS): b = alpha a^T
        cblas = prefix.replace("openblas", "cblas") if prefix.startswith("scipy") else "cblas"
        index = ctypes.c_int64 if "64" in suffix else ctypes.c_int
        self.omatcopy = {}
        for dtype, letter, real in ((np.float32, "s", ctypes.c_float),
                                    (np.float64, "d", ctypes.c_double)):
            f = getattr(lib, f"{cblas}_{letter}omatcopy{suffix}", None)
            if f is not None:
                f.argtypes = [ctypes.c_int, ctypes.c_int, index, index, real, ctypes.c_void_p,
                              index, ctypes.c_void_p, index]
                f.restype = None
                self.omatcopy[np.dtype(dtype)] = f


def _openblas() -> _OpenBLAS | None:
    """The OpenBLAS numpy uses, or None."""
    if not _OPENBLAS:
        import numpy.linalg  # noqa: F401  (make sure numpy's BLAS is loaded)

        found = None
        try:
            with open("/proc/self/maps") as f:
                paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
        except OSError:
            paths = set()
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"),
                                   ("scipy_openblas", ""), ("openblas", "")):
                if hasattr(lib, f"{prefix}_get_num_threads{suffix}") and \
                        hasattr(lib, f"{prefix}_set_num_threads{suffix}"):
                    found = _OpenBLAS(lib, prefix, suffix)
                    break
            if found:
                break
        _OPENBLAS.append(found)
    return _OPENBLAS[0]


_ROW_MAJOR, _TRANS = 101, 112  # cblas's enums


def transpose(a: np.ndarray, out: np.ndarray) -> bool:
    """out[...] = a.T for float32/64 matrices whose rows are each contiguous, by OpenBLAS's
    omatcopy: many times faster than numpy's strided copy, and exact (a multiply by 1).
    False, with out untouched, where it cannot (another dtype or layout, no OpenBLAS)."""
    blas = _openblas()
    f = blas.omatcopy.get(a.dtype) if blas is not None else None
    if (f is None or a.ndim != 2 or out.dtype != a.dtype or out.shape != a.shape[::-1]
            or a.strides[1] != a.itemsize or out.strides[1] != out.itemsize
            or a.strides[0] < a.shape[1] * a.itemsize or out.strides[0] < a.shape[0] * a.itemsize
            or not out.flags.writeable or 0 in a.shape):
        return False
    rows, cols = a.shape
    f(_ROW_MAJOR, _TRANS, rows, cols, 1.0, a.ctypes.data, a.strides[0] // a.itemsize,
      out.ctypes.data, out.strides[0] // out.itemsize)
    return True


def _threadpoolctl() -> Any:
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def set_threads(n: int) -> None:
    """Give numpy's BLAS `n` threads from now on."""
    tpc = _threadpoolctl()
    if tpc is not None:
        tpc.threadpool_limits(n, user_api="blas")
        return
    blas = _openblas()
    if blas is None:
        raise RuntimeError(
            "set_num_threads: cannot reach numpy's BLAS (not OpenBLAS); install threadpoolctl "
            "(pip install threadpoolctl) or set OMP_NUM_THREADS before starting Python"
        )
    blas.set_threads(ctypes.c_int(n))


def get_threads() -> int:
    """How many threads numpy's BLAS uses now."""
    tpc = _threadpoolctl()
    if tpc is not None:
        infos = [i["num_threads"] for i in tpc.threadpool_info() if i["user_api"] == "blas"]
        if infos:
            return int(infos[0])
    blas = _openblas()
    if blas is None:
        return os.cpu_count() or 1
    return int(blas.get_threads())


def _cpu_flags() -> frozenset[str]:
    """The instruction-set flags of this CPU, as Linux lists them (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _note(kernels: str | None, cpu_flags: frozenset[str], coretype: str | None) -> str | None:
    """A sentence when OpenBLAS runs kernels short of this CPU's AVX-512 (else None)."""
    if kernels is None or kernels.lower() not in _BELOW_AVX512 or not _AVX512 <= cpu_flags:
        return None
    why = (f"OPENBLAS_CORETYPE={coretype} chose them" if coretype is not None
           else "this OpenBLAS did not recognise the CPU")
    return (f"numpy's OpenBLAS runs its {kernels} kernels on a CPU with AVX-512 ({why}); "
            "its AVX-512 kernels (SkylakeX) can be up to twice as fast")


def info() -> dict[str, Any]:
    """Which BLAS numpy runs, with which kernels and threads, and a note if they misfit the CPU.

    >>> info()["kernels"]    # doctest: +SKIP
    'Haswell'
    """
    blas = _openblas()
    kernels = config = None
    if blas is not None:
        if blas.corename is not None:
            kernels = blas.corename().decode()
        if blas.config is not None:
            config = blas.config().decode()
    return {
        "library": config or ("OpenBLAS" if blas is not None else "not OpenBLAS"),
        "kernels": kernels,
        "threads": get_threads(),
        "note": _note(kernels, _cpu_flags(), os.environ.get("OPENBLAS_CORETYPE")),
    }
