"""The charlm models trained in PyTorch and in tinygrad_edu by the same code: validation loss.

    python benchmarks/charlm_reference.py [--archs mlp transformer] [--steps 3000 1000]

Both libraries build the model with `tinygrad_edu.charlm.build_model(lib, ...)` and train it with
`charlm.train_model(lib, ...)`: the same lines, the same minibatches (numpy-drawn from one
seed), the same AdamW schedule; only the initial weights differ (each library's own generator).
The claim checked: the validation losses (nats per character, on a fixed slice of the names
validation split) agree within 0.02. Needs the corpus: `pip install names` (or --corpus words).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run(lib, arch: str, steps: int, corpus: str, val_size: int, seed: int) -> tuple[float, float]:
    from tinygrad_edu import charlm
    from tinygrad_edu.data import CharDataset, Vocabulary, load_words, split_words

    words = load_words(corpus)
    vocab = Vocabulary.from_words(words)
    train_w, val_w, _ = split_words(words, seed=0)
    context = charlm.DEFAULTS[arch]["context"]
    train = CharDataset(train_w, vocab, context).arrays()
    X, y = CharDataset(val_w, vocab, context).arrays()
    lib.manual_seed(seed)
    model = charlm.build_model(lib, arch, len(vocab))
    start = time.perf_counter()
    history = charlm.train_model(lib, model, train, (X[:val_size], y[:val_size]), steps=steps,
                                 batch_size=64, lr=3e-3, seed=seed)
    return history["val_loss"][-1], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["mlp", "transformer"])
    parser.add_argument("--steps", nargs="+", type=int, default=[3000, 1000])
    parser.add_argument("--corpus", default="names")
    parser.add_argument("--val-size", type=int, default=8192)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    import tinygrad_edu

    torch.set_num_threads(1)
    print("| model | steps | tinygrad_edu val loss | torch val loss | difference | times (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    worst = 0.0
    for arch, steps in zip(args.archs, args.steps):
        ours, t_ours = run(tinygrad_edu, arch, steps, args.corpus, args.val_size, args.seed)
        theirs, t_theirs = run(torch, arch, steps, args.corpus, args.val_size, args.seed)
        worst = max(worst, abs(ours - theirs))
        print(f"| {arch} | {steps} | {ours:.4f} | {theirs:.4f} | {ours - theirs:+.4f} | "
              f"{t_ours:.0f} / {t_theirs:.0f} |", flush=True)
    print(f"\nlargest difference {worst:.4f} nats: "
          f"{'within' if worst <= 0.02 else 'NOT within'} 0.02")


if __name__ == "__main__":
    main()
