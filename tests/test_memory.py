"""memory.py: importing tinygrad_edu leaves malloc alone; keep_freed_memory(), asked for,
makes a step that allocates and frees the same arrays page-fault them in once, not every step."""

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
