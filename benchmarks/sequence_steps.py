"""One training step of the sequence models: tinygrad_edu vs PyTorch, same code for both.

    python benchmarks/sequence_steps.py [--models transformer lstm] [--rounds 5] [--threads 1 2]

transformer: the charlm tiny transformer (4 pre-norm layers, 4 heads, d_model 64, feed-forward
256, GELU, causal mask, context 16), batch 32, next-character cross-entropy, AdamW.
lstm: Embedding(27, 64) -> one-layer LSTM(64, hidden 128) over 32 steps -> Linear(128, 27) at
every step, batch 32, cross-entropy over all 32 x 32 predictions, AdamW.
float32; a step is forward, backward and the update. Each contender runs in its own process,
interleaved A B A B at the same thread count (harness.py); we report medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import add_base_option, start_worker  # noqa: E402

VOCAB, CONTEXT, BATCH, STEPS_LSTM = 27, 16, 32, 32


def lstm_model(lib):
    nn = lib.nn

    class CharLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, 64)
            self.lstm = nn.LSTM(64, 128, batch_first=True)
            self.head = nn.Linear(128, VOCAB)

        def forward(self, idx):
            return self.head(self.lstm(self.embed(idx))[0])

    return CharLSTM()


def framework_step(lib, model_name: str, steps: int) -> dict:
    """The same code for torch and tinygrad_edu: their APIs match, which is the point."""
    import numpy as np

    from tinygrad_edu import charlm

    lib.manual_seed(0)
    rng = np.random.default_rng(0)
    if model_name == "transformer":
        model = charlm.build_model(lib, "transformer", VOCAB)
        xs = rng.integers(0, VOCAB, (8, BATCH, CONTEXT))
        ys = rng.integers(0, VOCAB, (8, BATCH))
    else:
        model = lstm_model(lib)
        xs = rng.integers(0, VOCAB, (8, BATCH, STEPS_LSTM))
        ys = rng.integers(0, VOCAB, (8, BATCH * STEPS_LSTM))
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
    F = lib.nn.functional
    xs = [lib.from_numpy(x) for x in xs]
    ys = [lib.from_numpy(y) for y in ys]

    def step(x, y):
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for i in range(3):  # warm-up
        step(xs[i], ys[i])
    times = []
    for i in range(steps):
        t0 = time.perf_counter()
        step(xs[i % 8], ys[i % 8])
        times.append(time.perf_counter() - t0)
    return {"step": float(np.median(times))}


def torch_worker(model: str, steps: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    return framework_step(torch, model, steps)


def ours_worker(model: str, steps: int, threads: int) -> dict:
    import tinygrad_edu

    return framework_step(tinygrad_edu, model, steps)


WORKERS = {"tinygrad_edu": ours_worker, "torch": torch_worker}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=list(WORKERS))
    parser.add_argument("--model", default="transformer")
    parser.add_argument("--models", nargs="+", choices=("transformer", "lstm"),
                        default=["transformer", "lstm"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+",
                        default=[int(os.environ.get("BENCH_THREADS", 1)), 2])
    parser.add_argument("--heap", choices=["cold", "warm"], default="cold",
                        help="every worker's C heap state, see harness.settle_heap")
    add_base_option(parser)
    args = parser.parse_args()
    if args.worker:
        start_worker(args, args.heap)
        print(json.dumps(WORKERS[args.worker](args.model, args.steps, args.threads[0])))
        return

    from harness import blas_line, interleave, median_table, with_base, worker_env

    print(blas_line(worker_env(args.threads[0])))
    me = str(Path(__file__).resolve())
    for model in args.models:
        for threads in args.threads:
            contenders = {name: [me, "--worker", name, "--model", model, "--steps",
                                 str(args.steps), "--threads", str(threads), "--heap", args.heap]
                          for name in WORKERS}
            runs = interleave(with_base(contenders, args), args.rounds, env=worker_env(threads))
            print(f"\n### {model} step, {threads} thread{'s' if threads > 1 else ''}, "
                  f"{args.heap} heap: median step time\n")
            print(median_table(runs, "step", baseline="torch"), flush=True)


if __name__ == "__main__":
    main()
