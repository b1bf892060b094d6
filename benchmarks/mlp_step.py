"""One training step of the Fashion-MNIST MLP: tinygrad_edu vs PyTorch vs hand-written numpy.

    python benchmarks/mlp_step.py [--rounds 7] [--threads 2] [--batches 64 512] [--heap cold warm]
                                  [--base TREE]

Model: 784-256-ReLU-Dropout(0.2)-128-ReLU-Dropout(0.2)-10, cross-entropy, Adam(lr=1e-3),
float32; a step is forward, backward and the update. Every contender runs with the same thread
count, in its own process, interleaved A B C A B C (harness.py); we report median step times and
ratios. The numpy contender is forward and backward written out by hand: the floor for any
numpy-based engine. `--base TREE` adds tinygrad_edu as found in another source tree (e.g. an
older commit, `git archive COMMIT | tar -x -C TREE`) as one more contender, to measure a change.
`--heap`: the C heap's state in every worker (harness.settle_heap): "cold" as a fresh process,
"warm" as after loading a dataset; each state is its own interleaved table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import add_base_option, start_worker  # noqa: E402

SIZES = (784, 256, 128, 10)


def batches(batch: int, count: int = 8):
    import numpy as np

    rng = np.random.default_rng(0)
    xs = rng.random((count, batch, 784), dtype=np.float32)
    ys = rng.integers(0, 10, (count, batch))
    return xs, ys


def timed(step, xs, ys, steps: int) -> dict:
    import numpy as np

    for i in range(3):  # warm-up: allocator, BLAS threads, optimizer state
        step(xs[i % len(xs)], ys[i % len(ys)])
    times = []
    for i in range(steps):
        t0 = time.perf_counter()
        step(xs[i % len(xs)], ys[i % len(ys)])
        times.append(time.perf_counter() - t0)
    return {"step": float(np.median(times))}


def framework_step(lib, to_tensor, batch: int, steps: int) -> dict:
    """The same code for torch and tinygrad_edu: their APIs match, which is the point."""
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = batches(batch)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return timed(step, [to_tensor(x) for x in xs], [to_tensor(y) for y in ys], steps)


def torch_worker(batch: int, steps: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    return framework_step(torch, torch.from_numpy, batch, steps)


def ours_worker(batch: int, steps: int, threads: int) -> dict:
    import tinygrad_edu

    return framework_step(tinygrad_edu, tinygrad_edu.tensor, batch, steps)


def numpy_model(keep_prob: float = 0.8, dtype: str = "float32"):
    """Forward, backward and Adam written out by hand on float32 arrays, in place with scratch
    buffers wherever numpy allows: the fastest plain numpy we know how to write. (`dtype`:
    float64 lets a test compare it with torch's Adam exactly.)

    Returns (step, params); step(x, y) does one training step and updates params in place.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype))
        params.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    scratch = [np.empty_like(p) for p in params]
    state = {"t": 0}
    lr, b1, b2, eps, keep = 1e-3, 0.9, 0.999, 1e-8, np.dtype(dtype).type(keep_prob)

    def step(x, y):
        w1, c1, w2, c2, w3, c3 = params
        h1 = x @ w1.T
        h1 += c1
        np.maximum(h1, 0, out=h1)
        d1 = (rng.random(h1.shape, dtype=dtype) < keep) / keep
        a1 = h1 * d1
        h2 = a1 @ w2.T
        h2 += c2
        np.maximum(h2, 0, out=h2)
        d2 = (rng.random(h2.shape, dtype=dtype) < keep) / keep
        a2 = h2 * d2
        z = a2 @ w3.T
        z += c3
        z -= z.max(axis=1, keepdims=True)  # log-softmax, stable
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)  # softmax probabilities
        z[np.arange(len(y)), y] -= 1  # dloss/dlogits = (p - onehot) / n
        z /= len(y)
        g3, gc3 = z.T @ a2, z.sum(0)
        da2 = z @ w3
        da2 *= d2
        da2 *= h2 > 0
        g2, gc2 = da2.T @ a1, da2.sum(0)
        da1 = da2 @ w2
        da1 *= d1
        da1 *= h1 > 0
        g1, gc1 = da1.T @ x, da1.sum(0)
        state["t"] += 1
        t = state["t"]
        step_size = lr / (1 - b1**t)
        for p, g, mi, vi, b in zip(params, (g1, gc1, g2, gc2, g3, gc3), m, v, scratch):
            mi *= b1  # m = b1 m + (1 - b1) g
            np.multiply(g, 1 - b1, out=b)
            mi += b
            vi *= b2  # v = b2 v + (1 - b2) g^2
            np.multiply(g, g, out=b)
            b *= 1 - b2
            vi += b
            np.sqrt(vi, out=b)  # p -= lr m_hat / (sqrt(v_hat) + eps), folded
            b *= 1 / np.sqrt(1 - b2**t)
            b += eps
            np.divide(mi, b, out=b)
            b *= step_size
            p -= b

    return step, params


def numpy_worker(batch: int, steps: int, threads: int) -> dict:
    step, _ = numpy_model()
    xs, ys = batches(batch)
    return timed(step, xs, ys, steps)


WORKERS = {"tinygrad_edu": ours_worker, "torch": torch_worker, "numpy": numpy_worker}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=list(WORKERS))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 512])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 2)))
    parser.add_argument("--only", nargs="+", choices=list(WORKERS), default=list(WORKERS))
    parser.add_argument("--heap", nargs="+", choices=["cold", "warm"], default=["cold", "warm"],
                        help="the workers' C heap state(s), see harness.settle_heap")
    add_base_option(parser)
    args = parser.parse_args()
    if args.worker:
        start_worker(args, args.heap[0])
        print(json.dumps(WORKERS[args.worker](args.batch, args.steps, args.threads)))
        return

    from harness import blas_line, interleave, median_table, with_base, worker_env

    print(blas_line(worker_env(args.threads)))
    me = str(Path(__file__).resolve())
    for heap in args.heap:
        for batch in args.batches:
            common = ["--batch", str(batch), "--steps", str(args.steps),
                      "--threads", str(args.threads), "--heap", heap]
            contenders = with_base({name: [me, "--worker", name, *common] for name in args.only},
                                   args)
            runs = interleave(contenders, args.rounds, env=worker_env(args.threads))
            print(f"\n### Batch {batch}, {args.threads} threads, {heap} heap: median step time\n")
            print(median_table(runs, "step", baseline="torch"))


if __name__ == "__main__":
    main()
