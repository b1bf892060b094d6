"""`set_num_threads` / `get_num_threads`: how many threads numpy's BLAS (matmul) uses.

Every heavy op here is a numpy call and only BLAS (matrix products) runs on several threads,
so the BLAS pool is the knob torch.set_num_threads turns. With threadpoolctl installed
(`pip install threadpoolctl`) it is used, whatever the BLAS; without it the OpenBLAS that numpy
loaded is called directly (numpy's wheels bundle OpenBLAS), found among the process's loaded
libraries.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

__all__ = ["set_num_threads", "get_num_threads"]

_OPENBLAS: list[Any] = []  # [(get, set)] once looked up, [None] when there is no OpenBLAS


def _openblas() -> Any:
    """(get, set) of the OpenBLAS numpy uses, or None."""
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
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    found = (get, put)
                    break
            if found:
                break
        _OPENBLAS.append(found)
    return _OPENBLAS[0]


def _threadpoolctl() -> Any:
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def set_num_threads(n: int) -> None:
    """Use `n` threads for matrix products from now on (as torch.set_num_threads)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
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
    blas[1](ctypes.c_int(n))


def get_num_threads() -> int:
    """How many threads matrix products use now."""
    tpc = _threadpoolctl()
    if tpc is not None:
        infos = [i["num_threads"] for i in tpc.threadpool_info() if i["user_api"] == "blas"]
        if infos:
            return int(infos[0])
    blas = _openblas()
    if blas is None:
        return os.cpu_count() or 1
    return int(blas[0]())
