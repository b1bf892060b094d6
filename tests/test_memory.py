"""memory.py: importing tinygrad_edu leaves malloc alone; keep_freed_memory(), asked for,
makes a step that allocates and frees the same arrays page-fault them in once, not every step;
the kernels' own cache of big buffers hands a buffer out again only once no array uses it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import resource, sys, numpy as np
import tinygrad_edu
if sys.argv[1] == "keep":
    assert tinygrad_edu.memory.keep_freed_memory()
def step():
    a = np.ones((4096, 4096), np.float32)  # 64 MiB, above glibc's default thresholds
    return float(a[0, 0])
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
"""


def faults_per_step(mode: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         check=True, env=env)
    return float(out.stdout)


def glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


@pytest.mark.skipif(not glibc(), reason="malloc's thresholds are glibc's")
def test_import_leaves_malloc_alone_and_keep_freed_memory_reuses_freed_arrays():
    kept, untouched = faults_per_step("keep"), faults_per_step("import only")
    assert kept < 10, kept  # the block comes back from the heap as it was
    assert untouched > 10 * max(kept, 1), (kept, untouched)  # a fresh mapping every step


def test_keep_freed_memory_leaves_a_users_own_setting_alone(monkeypatch):
    from tinygrad_edu.memory import keep_freed_memory

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    assert keep_freed_memory() is False


# ---- the kernels' cache of big buffers ----------------------------------------------------------

def test_a_big_buffer_is_reused_once_no_array_uses_it_and_never_before():
    import numpy as np

    from tinygrad_edu import memory

    shape = (3, 1 << 18)  # 3 MiB of float32: cached
    a = memory.empty(shape, np.float32)
    a[...] = 1.0
    view = a[1:]  # a view keeps the buffer in use, like the array itself
    del a
    b = memory.empty(shape, np.float32)
    assert not np.shares_memory(b, view)
    del b
    c = memory.empty(shape, np.float32)  # b's buffer, free again
    assert not np.shares_memory(c, view)
    address = c.__array_interface__["data"][0]
    del c
    d = memory.empty((1 << 18, 3), np.float32)  # the same bytes, another shape
    assert d.__array_interface__["data"][0] == address
    assert memory.empty((10,), np.float32).base is None  # small arrays: plain numpy


def test_empty_like_keeps_the_memory_layout_and_dtype():
    import numpy as np

    from tinygrad_edu import memory

    x = np.zeros((8, 32, 30, 40), np.float32).transpose(0, 3, 1, 2)  # channels last
    y = memory.empty_like(x, np.float64)
    assert y.shape == x.shape and y.dtype == np.float64
    assert np.argsort(y.strides).tolist() == np.argsort(x.strides).tolist()


def test_the_cache_stays_under_its_limit_and_empty_cache_lets_free_buffers_go(monkeypatch):
    import numpy as np

    from tinygrad_edu import memory

    memory.empty_cache()
    base = memory.cached_bytes()
    monkeypatch.setattr(memory, "_LIMIT", base + (5 << 20))
    held = [memory.empty((1 << 20,), np.float32) for _ in range(2)]  # 8 MiB: one is cached
    assert memory.cached_bytes() == base + (4 << 20)
    del held
    other = memory.empty((1 << 20, 1), np.int32)  # fits: the cached buffer of the same size
    assert memory.cached_bytes() == base + (4 << 20)
    del other
    big = memory.empty((5 << 18,), np.float32)  # 5 MiB: the free 4 MiB buffer makes room
    assert memory.cached_bytes() == base + (5 << 20)
    del big
    memory.empty_cache()
    assert memory.cached_bytes() == base
