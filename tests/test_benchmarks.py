"""The benchmarks' numpy baseline computes the real thing, so its speed is a fair floor."""

import importlib.util
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_numpy_baseline_step_equals_torch_adam_step_without_dropout():
    # float64: in float32, Adam's m / sqrt(v) turns the last-bit differences of two BLAS
    # libraries in a near-zero gradient into differences of 1e-3 relative in the step
    step, params = load("mlp_step").numpy_model(keep_prob=1.0, dtype="float64")
    weights = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    rng = np.random.default_rng(1)
    x, y = rng.random((16, 784)), rng.integers(0, 10, 16)
    for _ in range(2):  # two steps, so the moment estimates matter too
        step(x, y)
    opt = torch.optim.Adam(weights, lr=1e-3)
    for _ in range(2):
        opt.zero_grad()
        h = torch.from_numpy(x)
        for i in range(0, 6, 2):
            h = h @ weights[i].T + weights[i + 1]
            h = torch.relu(h) if i < 4 else h
        torch.nn.functional.cross_entropy(h, torch.from_numpy(y)).backward()
        opt.step()
    for mine, theirs in zip(params, weights):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_the_sequence_step_benchmark_runs_one_code_on_both_libraries():
    import tinygrad_edu

    bench = load("sequence_steps")
    for lib in (tinygrad_edu, torch):
        for model in ("transformer", "lstm"):
            assert bench.framework_step(lib, model, steps=1)["step"] > 0
    ours, theirs = bench.lstm_model(tinygrad_edu), bench.lstm_model(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())


_CHURN = """
import resource, sys
sys.path.insert(0, {bench!r})
from harness import settle_heap
settle_heap({state!r})
import numpy as np
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):  # a step's worth of 512 KB activations, made and freed (as a training step)
    blocks = [np.ones(1 << 16) for _ in range(12)]
    del blocks
before = faults()
for _ in range(20):
    blocks = [np.ones(1 << 16) for _ in range(12)]
    del blocks
print((faults() - before) / 20)
"""


def test_a_warm_heap_stops_the_page_faults_that_a_cold_one_pays_every_step():
    """What harness.settle_heap's docstring claims of glibc, checked on this machine's libc."""
    import subprocess
    import sys

    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip("the claim is about glibc's malloc")
    per_step = {state: float(subprocess.run(
        [sys.executable, "-c", _CHURN.format(bench=str(ROOT / "benchmarks"), state=state)],
        capture_output=True, text=True, check=True).stdout)
        for state in ("cold", "warm")}
    assert per_step["cold"] > 1000, per_step  # 6 MB returned to the OS and faulted back in
    assert per_step["warm"] < 50, per_step
