"""memory.py: on glibc, importing tinygrad_edu makes malloc keep freed large blocks, so a
step that allocates and frees the same arrays page-faults them in once, not every step."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import resource, numpy as np
import tinygrad_edu
def step():
    a = np.ones((4096, 4096), np.float32)  # 64 MiB, above glibc's default thresholds
    return float(a[0, 0])
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
"""


def faults_per_step(**env: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, env={**os.environ, **env})
    return float(out.stdout)


def glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


@pytest.mark.skipif(not glibc(), reason="malloc's thresholds are glibc's")
def test_freed_arrays_are_reused_not_faulted_in_again():
    kept, system = faults_per_step(), faults_per_step(TINYGRAD_EDU_MALLOC="system")
    assert kept < 10, kept  # the block comes back from the heap as it was
    assert system > 10 * max(kept, 1), (kept, system)  # without: a fresh mapping every step


def test_keep_freed_memory_leaves_a_users_own_setting_alone(monkeypatch):
    from tinygrad_edu.memory import keep_freed_memory
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    assert keep_freed_memory() is False
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    monkeypatch.setenv("TINYGRAD_EDU_MALLOC", "system")
    assert keep_freed_memory() is False
