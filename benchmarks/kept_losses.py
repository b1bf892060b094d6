"""Memory of a training loop that keeps every loss (for logging): tinygrad_edu vs PyTorch 2.13.

    python benchmarks/kept_losses.py [--rounds 3] [--steps 200] [--threads 1]

The loop is the Fashion-MNIST MLP of mlp_step.py (784-256-ReLU-Dropout(0.2)-128-ReLU-
Dropout(0.2)-10, cross-entropy, Adam, float32, batch 64), fed a fresh Fashion-MNIST-sized
batch every step, and it does `losses.append(loss)` after `loss.backward()`. A kept loss keeps
whatever its graph holds after backward; PyTorch frees the saved tensors then, and so do we
(autograd/graph.py, `release`). Reported: resident memory (RSS) after the warm-up steps and
after the last step, per process; contenders run interleaved in separate processes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def rss_mib() -> float:
    """This process's resident memory now, in MiB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def keep_losses(lib, to_tensor, steps: int, batch: int = 64, warmup: int = 10) -> dict:
    """The same loop for torch and tinygrad_edu (their APIs match)."""
    import numpy as np

    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    losses = []

    def step():
        x = to_tensor(rng.random((batch, 784), dtype=np.float32))
        y = to_tensor(rng.integers(0, 10, batch))
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss)  # kept for logging, graph and all

    for _ in range(warmup):
        step()
    losses.clear()
    before = rss_mib()
    for _ in range(steps):
        step()
    after = rss_mib()
    return {"rss_before": before, "rss_after": after, "growth": after - before,
            "kept": len(losses), "last_loss": float(losses[-1].item())}


def worker(name: str, steps: int, threads: int) -> dict:
    if name == "torch":
        import torch

        torch.set_num_threads(threads)
        return keep_losses(torch, torch.from_numpy, steps)
    import tinygrad_edu

    return keep_losses(tinygrad_edu, tinygrad_edu.tensor, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=["tinygrad_edu", "torch"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps, args.threads)))
        return

    from harness import interleave, median_table, worker_env

    me = str(Path(__file__).resolve())
    runs = interleave({name: [me, "--worker", name, "--steps", str(args.steps), "--threads",
                              str(args.threads)] for name in ("tinygrad_edu", "torch")},
                      args.rounds, env=worker_env(args.threads))
    print(f"### Keeping {args.steps} losses, batch 64, {args.threads} thread(s): RSS growth\n")
    print(median_table(runs, "growth", baseline="torch", unit="MiB", scale=1.0))
    for name, rs in runs.items():
        print(f"\n{name}: RSS before -> after (MiB): "
              + ", ".join(f"{r['rss_before']:.1f} -> {r['rss_after']:.1f}" for r in rs))


if __name__ == "__main__":
    main()
