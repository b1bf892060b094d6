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
    step, params = load("mlp_step").numpy_model(keep_prob=1.0)
    weights = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    rng = np.random.default_rng(1)
    x, y = rng.random((16, 784), dtype=np.float32), rng.integers(0, 10, 16)
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
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_the_sequence_step_benchmark_runs_one_code_on_both_libraries():
    import tinygrad_edu

    bench = load("sequence_steps")
    for lib in (tinygrad_edu, torch):
        for model in ("transformer", "lstm"):
            assert bench.framework_step(lib, model, steps=1)["step"] > 0
    ours, theirs = bench.lstm_model(tinygrad_edu), bench.lstm_model(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
