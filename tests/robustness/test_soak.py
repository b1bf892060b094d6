"""A short soak: a few hundred training steps of each engine leak nothing and build no cycles.

The long version (10,000 steps, RSS, the memory figures) is `python benchmarks/soak.py`.
Here: with the cyclic GC off, training leaves nothing that only the GC could free; memory
traced by tracemalloc stops growing after a warm-up; a graph dies with its last reference.
"""

from __future__ import annotations

import gc
import importlib.util
import tracemalloc
import weakref
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value

_spec = importlib.util.spec_from_file_location(
    "soak", Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py")
soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soak)

TRAINERS = {"scalar": (soak.scalar_trainer, 150), "tensor": (soak.tensor_trainer, 400),
            "fashion": (soak.fashion_trainer, 30)}
MEMORY_STEPS = {"scalar": 60, "tensor": 200, "fashion": 30}  # tracemalloc slows each step



@pytest.mark.parametrize("engine", TRAINERS)
def test_training_makes_no_reference_cycles(engine):
    make, steps = TRAINERS[engine]
    step = make()
    step(0)

    def run():
        for i in range(steps):
            step(i + 1)

    total, ours = soak.unreachable_after(run)
    assert ours == [] and total == 0, (total, ours)


def test_the_cycle_detector_can_fail():
    """unreachable_after sees a cycle of our objects (so a zero above means something)."""
    def make_cycle():
        v = Value(1.0)
        v.grad = [v]  # a Value that refers to itself

    total, ours = soak.unreachable_after(make_cycle)
    assert total >= 2 and ours == ["tinygrad_edu.value.Value"]


def _fill_tuple_free_lists() -> None:
    """Fill CPython's free lists of small tuples (2,000 of each length up to 19) with tuples
    made before tracing. A freed tuple waits there for reuse, still counted as traced, and a
    step's shape tuples (mostly 1-tuples) fill an empty list over hundreds of steps (up to
    96 KiB): memory that grows, then stops, and that no step leaks."""
    for n in range(1, 20):
        tuples = [tuple(range(i, i + n)) for i in range(2500)]
        del tuples


@pytest.mark.parametrize("engine", TRAINERS)
def test_traced_memory_is_flat_after_warm_up(engine):
    make, steps = TRAINERS[engine][0], MEMORY_STEPS[engine]
    step, warm = make(), 20
    for i in range(warm):
        step(i)
    gc.collect()
    _fill_tuple_free_lists()
    tracemalloc.start()
    try:
        for i in range(steps // 2):
            step(warm + i)
        middle = tracemalloc.get_traced_memory()[0]
        for i in range(steps // 2):
            step(warm + steps // 2 + i)
        end = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # the second half allocates nothing that stays: within 16 KiB of noise (allocator caches)
    assert end - middle < 16 * 1024, (middle, end)


def test_graphs_are_freed_with_the_last_reference_to_the_loss():
    assert soak.graph_freed_with_loss() == {"value": True, "tensor": True}


def test_a_tensor_graph_is_freed_without_backward():
    gc.disable()
    try:
        x = Tensor(np.ones((8, 8)), requires_grad=True)
        h = (x @ x).tanh()
        ref = weakref.ref(h)
        loss = h.mean()
        del h
        assert ref() is not None  # the loss keeps its graph alive
        del loss
        assert ref() is None
    finally:
        gc.enable()


def test_saved_gradients_do_not_keep_graphs_alive():
    """After backward, a leaf's .grad must not hold on to the graph it came from."""
    gc.disable()
    try:
        x = Tensor(np.ones(4), requires_grad=True)
        mid = x * 3.0
        ref = weakref.ref(mid)
        (mid * mid).sum().backward()
        del mid
        assert ref() is None and x.grad is not None
    finally:
        gc.enable()


def test_a_very_deep_graph_is_freed_without_crashing_the_interpreter():
    """Freeing a 150,000-op chain must not overflow the C stack (run in a child process)."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from tinygrad_edu import Tensor, Value\n"
        "y = Value(1.0)\n"
        "for _ in range(150_000): y = y * 1.0\n"
        "del y\n"
        "t = Tensor(np.ones(1), requires_grad=True)\n"
        "for _ in range(50_000): t = t * 1.0\n"
        "t.sum().backward()\n"
        "del t\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stderr)
