"""Convolutions: one CNN training step, and one 3x3 conv layer, tinygrad_edu vs PyTorch.

    python benchmarks/conv_step.py [--rounds 3] [--threads 1] [--steps 5]

Workloads, float32, each contender in its own process with the same thread count, interleaved
A B, B A (harness.py); we report medians and ratios:

- `cnn64`, `cnn256`: one training step (forward, backward, Adam) of `train.build_cnn`, the
  `tinygrad-edu train --model cnn` network, built for both by the same function;
- `conv3x3`: forward + backward of one Conv2d(64, 64, 3, padding=1) on a (32, 64, 32, 32)
  batch, input gradient included (as inside a network).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import add_base_option, start_worker  # noqa: E402
from mlp_step import timed  # noqa: E402  (the same timing loop as the MLP benchmark)

WORKLOADS = ("cnn64", "cnn256", "conv3x3")


def cnn_step(lib, to_tensor, batch: int, steps: int) -> float:
    """The same code for torch and tinygrad_edu: their APIs match."""
    import numpy as np

    from tinygrad_edu.train import build_cnn

    lib.manual_seed(0)
    model = build_cnn(lib.nn)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    xs = [to_tensor(rng.standard_normal((batch, 784), dtype=np.float32)) for _ in range(4)]
    ys = [to_tensor(rng.integers(0, 10, batch)) for _ in range(4)]

    def step(x, y):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return timed(step, xs, ys, steps)["step"]


def conv_layer(lib, to_tensor, steps: int) -> float:
    import numpy as np

    lib.manual_seed(0)
    conv = lib.nn.Conv2d(64, 64, 3, padding=1)
    rng = np.random.default_rng(0)
    xs = [to_tensor(rng.standard_normal((32, 64, 32, 32), dtype=np.float32)) for _ in range(2)]
    for x in xs:
        x.requires_grad_(True)
    gs = [to_tensor(rng.standard_normal((32, 64, 32, 32), dtype=np.float32)) for _ in range(2)]

    def step(x, g):
        x.grad = None
        conv.zero_grad()
        conv(x).backward(g)

    return timed(step, xs, gs, steps)["step"]


def run(lib, to_tensor, steps: int) -> dict:
    return {"cnn64": cnn_step(lib, to_tensor, 64, steps),
            "cnn256": cnn_step(lib, to_tensor, 256, max(2, steps // 2)),
            "conv3x3": conv_layer(lib, to_tensor, steps)}


def torch_worker(steps: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    return run(torch, torch.from_numpy, steps)


def ours_worker(steps: int, threads: int) -> dict:
    import tinygrad_edu

    return run(tinygrad_edu, tinygrad_edu.from_numpy, steps)


WORKERS = {"tinygrad_edu": ours_worker, "torch": torch_worker}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=list(WORKERS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--heap", choices=["cold", "warm"], default="cold",
                        help="every worker's C heap state, see harness.settle_heap")
    add_base_option(parser)
    args = parser.parse_args()
    if args.worker:
        start_worker(args, args.heap)
        print(json.dumps(WORKERS[args.worker](args.steps, args.threads)))
        return

    from harness import blas_line, interleave, median_table, with_base, worker_env

    me = str(Path(__file__).resolve())
    commands = {name: [me, "--worker", name, "--steps", str(args.steps), "--threads",
                       str(args.threads), "--heap", args.heap] for name in WORKERS}
    results = interleave(with_base(commands, args), args.rounds, env=worker_env(args.threads))
    print(f"`python benchmarks/conv_step.py {' '.join(sys.argv[1:])}`")
    print(f"\n{blas_line(worker_env(args.threads))}")
    for metric in WORKLOADS:
        print(f"\n#### {metric}, {args.threads} thread{'s' if args.threads > 1 else ''}, "
              f"{args.heap} heap\n")
        print(median_table(results, metric, baseline="torch"))


if __name__ == "__main__":
    main()
