"""`tinygrad-edu train`: the MLP every tutorial shows, trained on Fashion-MNIST (or MNIST).

    tinygrad-edu train --dataset fashion-mnist --epochs 5
    tinygrad-edu train --model cnn --dataset fashion-mnist --epochs 3

Model 784-256-128-10 with ReLU and Dropout(0.2), CrossEntropyLoss, Adam(lr=1e-3), batches of
64 standardized images; `--model cnn` is `build_cnn` (two conv blocks and a linear head), with
the same loss, optimizer and batches. Each epoch shows a progress bar (loss, accuracy,
samples/s), then the test-set loss and accuracy. At the end, the model's state dict
(`model.npz`, read it back with `tinygrad_edu.load`), the per-epoch figures (`history.json`)
and their plot (`training.png`, when matplotlib is installed) go into `--out` (default
`runs/<dataset>`).

The loop in `fit` is the one you would write in PyTorch, line for line; only the imports differ.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import nn, optim
from .autograd import no_grad
from .data import MNIST, DataLoader, FashionMNIST, TensorDataset
from .progress import progress
from .random import manual_seed
from .serialization import save
from .tensor import from_numpy

__all__ = ["DATASETS", "MODELS", "build_model", "build_cnn", "load_arrays", "evaluate", "fit",
           "save_plot", "add_parser", "run"]

DATASETS: dict[str, type[MNIST]] = {"fashion-mnist": FashionMNIST, "mnist": MNIST}


def build_model() -> nn.Sequential:
    """784 -> 256 -> 128 -> 10 with ReLU and Dropout(0.2); Linear layers init as in PyTorch."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 10),
    )  # fmt: skip


def build_cnn(nn: Any = nn) -> Any:
    """Two conv blocks and a linear head, the common Fashion-MNIST CNN: each block is a 3x3
    convolution (padding 1), BatchNorm2d, ReLU and 2x2 max pooling; 28x28 -> 14x14 -> 7x7.
    The convolutions have no bias: BatchNorm2d subtracts each channel's mean right after, so a
    bias would get a zero gradient (and, through Adam, steps driven by rounding noise alone).

    `build_cnn(torch.nn)` builds the same network in PyTorch (the benchmarks compare them).
    """
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),  # the loader's flat 784 pixels back into an image
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 10),
    )  # fmt: skip


MODELS = {"mlp": build_model, "cnn": build_cnn}


def load_arrays(
    dataset: str = "fashion-mnist", root: str | Path | None = None, download: bool = False
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`((X_train, y_train), (X_test, y_test))`: float32 (N, 784) standardized, int64 labels.

    Both splits are standardized with the training set's mean and std. Missing training files
    (a folder with only the t10k-* test files, like the repository's MNIST sample) are a
    FileNotFoundError that says the training split is not available.
    """
    if dataset not in DATASETS:
        raise ValueError(f"train: unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}")
    cls = DATASETS[dataset]
    try:
        train = cls(root, train=True, download=download)
    except FileNotFoundError as err:
        found = str(err).split(". Pass root=")[0]  # the library's hint speaks Python, not CLI
        try:  # say "only the test files" only when they are there
            cls(root, train=False)
            have = " The folder has only the t10k-* test files; training needs the train-* ones."
        except (OSError, ValueError):
            have = ""
        where = "Pass --root DIR" if root is None else "Point --root at a folder"
        raise FileNotFoundError(
            f"the training split of {cls.name} is not available: {found}.{have} {where} "
            "with the four IDX files (train-images, train-labels, t10k-images, t10k-labels), "
            "or add --root DIR --download to fetch them into DIR."
        ) from None
    test = cls(root, train=False, download=download)
    return train.arrays(normalize=True, flatten=True), test.arrays(normalize=True, flatten=True)


def evaluate(
    model: nn.Module, X: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` on `(X, y)`, in eval mode and without a graph.

    Puts the model back in the mode it was in.
    """
    was_training = model.training
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total_loss, correct = 0.0, 0
    with no_grad():
        for start in range(0, len(X), batch_size):
            xb = from_numpy(X[start : start + batch_size])
            yb = from_numpy(y[start : start + batch_size])
            output = model(xb)
            total_loss += loss_fn(output, yb).item()
            correct += (output.argmax(dim=1) == yb).sum().item()
    model.train(was_training)
    return total_loss / len(X), correct / len(X)


def fit(
    model: nn.Module,
    train_data: tuple[np.ndarray, np.ndarray],
    test_data: tuple[np.ndarray, np.ndarray],
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    show_progress: bool = True,
) -> dict[str, list[float]]:
    """Train `model` with Adam on `train_data`, evaluating on `test_data` after every epoch.

    Returns the history: per epoch, `train_loss`, `train_acc` (over the epoch, dropout on),
    `test_loss`, `test_acc`, `epoch_time` (seconds of training, evaluation excluded),
    `epoch_cpu_time` (CPU seconds of this process in that time, all threads) and
    `samples_per_s`. Shuffling is seeded by `seed`; seed the weights and dropout with
    `manual_seed` before building the model.
    """
    X, y = train_data
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, generator=seed)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {key: [] for key in (
        "train_loss", "train_acc", "test_loss", "test_acc", "epoch_time", "epoch_cpu_time",
        "samples_per_s")}

    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        batches = loader
        if show_progress:
            batches = progress(loader, desc=f"epoch {epoch}/{epochs}", total=len(loader))
        start, cpu_start = time.perf_counter(), time.process_time()
        for step, (xb, yb) in enumerate(batches, 1):
            optimizer.zero_grad()
            output = model(xb)
            loss = loss_fn(output, yb)
            loss.backward()
            optimizer.step()

            n = len(yb)
            total_loss += loss.item() * n
            correct += (output.argmax(dim=1) == yb).sum().item()
            seen += n
            if show_progress and (step % 20 == 0 or step == len(loader)):
                elapsed = time.perf_counter() - start
                batches.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.2%}",
                                    samples_s=f"{seen / elapsed:,.0f}")
        epoch_time = time.perf_counter() - start
        epoch_cpu_time = time.process_time() - cpu_start
        if show_progress and hasattr(batches, "close"):
            batches.close()

        test_loss, test_acc = evaluate(model, *test_data)
        for key, value in (("train_loss", total_loss / seen), ("train_acc", correct / seen),
                           ("test_loss", test_loss), ("test_acc", test_acc),
                           ("epoch_time", epoch_time), ("epoch_cpu_time", epoch_cpu_time),
                           ("samples_per_s", seen / epoch_time)):
            history[key].append(value)
        if show_progress:
            print(f"epoch {epoch}/{epochs}: train loss {total_loss / seen:.4f} "
                  f"acc {correct / seen:.2%} | test loss {test_loss:.4f} acc {test_acc:.2%} | "
                  f"{epoch_time:.1f} s, {seen / epoch_time:,.0f} samples/s", flush=True)
    return history


def save_plot(history: dict[str, list[float]], path: str | Path, title: str = "") -> bool:
    """Loss and accuracy per epoch, train and test, as a PNG. False if matplotlib is missing."""
    try:
        from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state
    except ImportError:
        return False
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for ax, key, label in ((loss_ax, "loss", "cross-entropy loss"), (acc_ax, "acc", "accuracy")):
        ax.plot(epochs, history[f"train_{key}"], "o-", label="train (epoch mean, dropout on)")
        ax.plot(epochs, history[f"test_{key}"], "s-", label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=110)
    return True


# ---- the command ------------------------------------------------------------------------------


def _checked(convert: Any, ok: Any, expected: str) -> Any:
    """An argparse type: `convert` the text, then require `ok(value)`; errors say `expected`."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value

    return parse


_positive_int = _checked(int, lambda v: v >= 1, "a positive integer")
_seed = _checked(int, lambda v: v >= 0, "an integer >= 0")
_learning_rate = _checked(float, lambda v: math.isfinite(v) and v > 0, "a positive finite number")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `train` command to a CLI's subparsers (from `parser.add_subparsers()`)."""
    parser = subparsers.add_parser(
        "train",
        help="train the 784-256-128-10 MLP (or a small CNN) on Fashion-MNIST or MNIST",
        description="Train the MLP every tutorial shows (784-256-128-10, ReLU, Dropout(0.2), "
                    "Adam), or with --model cnn two conv blocks and a linear head, on "
                    "Fashion-MNIST or MNIST, evaluate it on the test set after each "
                    "epoch, and save the model (.npz), its history and a loss/accuracy plot.",
    )
    parser.add_argument("--model", choices=[*sorted(MODELS), "charlm"], default="mlp",
                        help="mlp (784-256-128-10, default), cnn (two conv blocks and a linear "
                             "head) or charlm (a character-level language model of names; see "
                             "the charlm options below)")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="fashion-mnist",
                        help="which images (default fashion-mnist)")
    parser.add_argument("--root", default=None, metavar="DIR",
                        help="folder with the IDX files (default: the dataset's usual places; "
                             "Fashion-MNIST: /usr/share/datasets/fashion-mnist)")
    parser.add_argument("--download", action="store_true",
                        help="download missing files into --root (checksums verified)")
    parser.add_argument("--epochs", type=_positive_int, default=5, metavar="N",
                        help="passes over the training set (default 5)")
    parser.add_argument("--batch-size", type=_positive_int, default=64, metavar="N",
                        help="images per step (default 64)")
    parser.add_argument("--lr", type=_learning_rate, default=1e-3,
                        help="Adam's learning rate (default 1e-3)")
    parser.add_argument("--seed", type=_seed, default=0,
                        help="seeds the weights, dropout and shuffling (default 0)")
    parser.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                        help="train on the first N training images only (quick runs)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="where to write the model and plot (default runs/<dataset>)")
    parser.add_argument("--no-progress", "--quiet", action="store_true",
                        help="no progress bars or per-epoch lines, only the summary")
    from .charlm import add_arguments as add_charlm_arguments

    add_charlm_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _error(message: str) -> int:
    print(f"tinygrad-edu train: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Run `tinygrad-edu train` with parsed arguments; 0 on success, 2 on a usage/data error."""
    if getattr(args, "model", "mlp") == "charlm":
        from .charlm import run as run_charlm

        return run_charlm(args)
    if args.download and args.root is None:
        return _error("--download needs --root DIR, the folder to download into")
    try:
        train_data, test_data = load_arrays(args.dataset, args.root, args.download)
    except (OSError, ValueError) as err:  # missing, corrupt or wrongly-checksummed files
        return _error(str(err))
    X, y = train_data
    if args.limit is not None:
        X, y = X[: args.limit], y[: args.limit]
    if args.batch_size > len(X):
        return _error(f"--batch-size {args.batch_size} is larger than the {len(X)} training "
                      "images; use a smaller batch or a larger --limit")
    out = Path(args.out if args.out is not None else Path("runs") / args.dataset)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return _error(f"cannot create the output folder {out}: {err}")

    manual_seed(args.seed)
    model = MODELS[args.model]()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"Training {n_params:,}-parameter {args.model.upper()} on {len(X):,} {args.dataset} "
          f"images "
          f"({len(test_data[0]):,} test), {_plural(args.epochs, 'epoch')}, "
          f"batch {args.batch_size}, Adam lr={args.lr:g}, seed {args.seed}.", flush=True)
    history = fit(model, (X, y), test_data, epochs=args.epochs, batch_size=args.batch_size,
                  lr=args.lr, seed=args.seed, show_progress=not args.no_progress)

    model_path, history_path = out / "model.npz", out / "history.json"
    plot_path = out / "training.png"
    save(model.state_dict(), model_path)
    settings = {k: getattr(args, k) for k in ("model", "dataset", "epochs", "batch_size", "lr",
                                              "seed", "limit")}
    history_path.write_text(json.dumps({"settings": settings, "history": history}, indent=1))
    title = f"{args.dataset}, {len(X):,} images, seed {args.seed}"
    plotted = save_plot(history, plot_path, title)

    print(f"Test accuracy after {_plural(args.epochs, 'epoch')}: "
          f"{history['test_acc'][-1]:.2%} (median epoch {np.median(history['epoch_time']):.2f} s)")
    print(f"Model weights:  {model_path}   (model.load_state_dict(tinygrad_edu.load(path)))")
    print(f"History:        {history_path}")
    if plotted:
        print(f"Plot:           {plot_path}")
    else:
        print("Plot:           skipped: matplotlib is not installed "
              "(pip install 'tinygrad-edu[extras]')")
    return 0
