"""Fashion-MNIST, the tutorial recipe end to end: tinygrad_edu vs PyTorch, accuracy and epoch time.

    python benchmarks/fashion_mnist.py [--seeds 0 1 2] [--epochs 5] [--threads 2]
    python benchmarks/fashion_mnist.py --model cnn --epochs 3      # the CNN of --model cnn

Recipe, identical for both: 784-256-ReLU-Dropout(0.2)-128-ReLU-Dropout(0.2)-10 with PyTorch's
default init (kaiming-uniform a=sqrt(5), bias U(+-1/sqrt(fan_in))), CrossEntropyLoss,
Adam(lr=1e-3), batch 64, reshuffled each epoch, pixels standardized with the training set's
mean and std (the same float32 arrays from `tinygrad_edu.data`), test-set evaluation after
every epoch. tinygrad_edu runs the `tinygrad-edu train` loop itself (`tinygrad_edu.train.fit`);
the PyTorch contender is that loop ported line by line (batches by indexing the tensors with a
random permutation, the fast way in PyTorch too; `--only torch-dataloader` adds the tutorial's
`torch.utils.data.DataLoader(TensorDataset(...))`, which collates sample by sample).

`--model cnn`: `tinygrad_edu.train.build_cnn` (two conv blocks, BatchNorm2d, max pooling, a
linear head), built for PyTorch by the very same function given `torch.nn`; the rest as above.

Each (contender, seed) is a fresh process with the same thread count; contenders alternate
A B, B A, ... across seeds (harness.py), so a slow spell of the shared machine hits both. We
report the test accuracy after the last epoch (mean +- std over seeds) and the median epoch time
(training only, evaluation excluded) over all epochs of all seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _arrays(limit: int | None):
    from tinygrad_edu.train import load_arrays

    (X, y), test = load_arrays("fashion-mnist")
    if limit:
        X, y = X[:limit], y[:limit]
    return (X, y), test


def ours_worker(seed: int, epochs: int, threads: int, limit: int | None,
                model_name: str = "mlp") -> dict:
    import tinygrad_edu as tg
    from tinygrad_edu import train

    train_data, test_data = _arrays(limit)
    tg.manual_seed(seed)
    model = train.MODELS[model_name]()
    h = train.fit(model, train_data, test_data, epochs=epochs, batch_size=64, lr=1e-3,
                  seed=seed, show_progress=False)
    return {"test_acc": h["test_acc"], "test_loss": h["test_loss"],
            "train_loss": h["train_loss"], "epoch_time": h["epoch_time"],
            "epoch_cpu_time": h["epoch_cpu_time"]}


def _torch_fit(seed: int, epochs: int, threads: int, limit: int | None, dataloader: bool,
               model_name: str = "mlp") -> dict:
    """`tinygrad_edu.train.fit`, ported to PyTorch line by line."""
    import torch

    from tinygrad_edu.train import build_cnn

    torch.set_num_threads(threads)
    (X, y), (Xt, yt) = _arrays(limit)
    X, y, Xt, yt = (torch.from_numpy(a) for a in (X, y, Xt, yt))
    torch.manual_seed(seed)
    nn = torch.nn
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 10),
    ) if model_name == "mlp" else build_cnn(nn)  # fmt: skip
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shuffle = torch.Generator().manual_seed(seed)
    if dataloader:
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=64,
                                             shuffle=True, generator=shuffle)
    else:
        def loader_iter():
            order = torch.randperm(len(X), generator=shuffle)
            for start in range(0, len(X), 64):
                idx = order[start : start + 64]
                yield X[idx], y[idx]

    history: dict[str, list[float]] = {"test_acc": [], "test_loss": [], "train_loss": [],
                                       "epoch_time": [], "epoch_cpu_time": []}
    for _ in range(epochs):
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        start, cpu_start = time.perf_counter(), time.process_time()
        for xb, yb in (loader if dataloader else loader_iter()):
            optimizer.zero_grad()
            output = model(xb)
            loss = loss_fn(output, yb)
            loss.backward()
            optimizer.step()

            n = len(yb)
            total_loss += loss.item() * n
            correct += (output.argmax(dim=1) == yb).sum().item()
            seen += n
        history["epoch_time"].append(time.perf_counter() - start)
        history["epoch_cpu_time"].append(time.process_time() - cpu_start)
        history["train_loss"].append(total_loss / seen)

        model.eval()  # evaluate(): batches of 1000, summed loss
        sum_loss = nn.CrossEntropyLoss(reduction="sum")
        test_loss, test_correct = 0.0, 0
        with torch.no_grad():
            for s in range(0, len(Xt), 1000):
                output = model(Xt[s : s + 1000])
                test_loss += sum_loss(output, yt[s : s + 1000]).item()
                test_correct += (output.argmax(dim=1) == yt[s : s + 1000]).sum().item()
        history["test_loss"].append(test_loss / len(Xt))
        history["test_acc"].append(test_correct / len(Xt))
    return history


def torch_worker(seed: int, epochs: int, threads: int, limit: int | None,
                 model_name: str = "mlp") -> dict:
    return _torch_fit(seed, epochs, threads, limit, dataloader=False, model_name=model_name)


def torch_dataloader_worker(seed: int, epochs: int, threads: int, limit: int | None,
                            model_name: str = "mlp") -> dict:
    return _torch_fit(seed, epochs, threads, limit, dataloader=True, model_name=model_name)


WORKERS = {"tinygrad_edu": ours_worker, "torch": torch_worker,
           "torch-dataloader": torch_dataloader_worker}


def _mean_std(xs: list[float]) -> tuple[float, float]:
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def report(runs: dict[str, list[dict]], seeds: list[int], epochs: int, threads: int,
           command: str, model_name: str = "mlp") -> str:
    """The markdown: command, per-framework summary, the gaps, and the per-seed figures."""
    lines = [f"### Fashion-MNIST {model_name.upper()}, {epochs} epochs, {len(seeds)} seeds "
             f"({threads} threads)",
             "", f"`{command}`", "",
             "| framework | seeds | test accuracy (mean ± std) | median epoch time (s) | "
             "ratio to torch | fastest epoch (s) | ratio to torch | "
             "median epoch CPU time (s) | ratio to torch |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    summary = {}
    for name, rs in runs.items():
        accs = [100 * r["test_acc"][-1] for r in rs]
        times = [t for r in rs for t in r["epoch_time"]]
        cpu = [t for r in rs for t in r["epoch_cpu_time"]]
        summary[name] = (_mean_std(accs), statistics.median(times), statistics.median(cpu),
                         min(times))
    base = summary.get("torch", next(iter(summary.values())))
    for name, ((mean, std), median, cpu, fastest) in summary.items():
        lines.append(f"| {name} | {len(runs[name])} | {mean:.2f} ± {std:.2f} % | {median:.2f} | "
                     f"{median / base[1]:.2f} | {fastest:.2f} | "
                     f"{fastest / base[3]:.2f} | {cpu:.2f} | {cpu / base[2]:.2f} |")
    if "torch" in summary and "tinygrad_edu" in summary:
        gap = summary["tinygrad_edu"][0][0] - summary["torch"][0][0]
        ratio = summary["tinygrad_edu"][1] / summary["torch"][1]
        acc_ok = "within" if abs(gap) <= 0.5 else "NOT within"
        time_ok = "no slower than" if ratio <= 1 else "slower than"
        lines += ["", f"Accuracy gap (tinygrad_edu - torch): {gap:+.2f} points ({acc_ok} the "
                  f"0.5-point goal). Epoch time ratio tinygrad_edu/torch: {ratio:.2f} "
                  f"({time_ok} PyTorch)."]
    lines += ["", "Per seed: test accuracy after each epoch (%), epoch times in s (CPU s):", "",
              "| framework | seed | test accuracy by epoch | epoch times | load avg (1 min) |",
              "|---|---:|---|---|---|"]
    for name, rs in runs.items():
        for seed, r in zip(seeds, rs):
            accs = " ".join(f"{100 * a:.2f}" for a in r["test_acc"])
            times = " ".join(f"{t:.2f} ({c:.2f})" for t, c in zip(r["epoch_time"],
                                                                   r["epoch_cpu_time"]))
            load = f"{r['load'][0]:.1f} -> {r['load'][1]:.1f}"
            lines.append(f"| {name} | {seed} | {accs} | {times} | {load} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=list(WORKERS))
    parser.add_argument("--seed", type=int, default=0, help="(worker) the seed to run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 2)))
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N images only (smoke tests)")
    parser.add_argument("--only", nargs="+", choices=list(WORKERS),
                        default=["tinygrad_edu", "torch"])
    parser.add_argument("--json", default=None, metavar="FILE", help="also save the raw runs")
    parser.add_argument("--report", default=None, metavar="FILE",
                        help="print the report of runs saved with --json, without running")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(Path(args.report).read_text())
        runs = saved["runs"]
        epochs = len(next(iter(runs.values()))[0]["test_acc"])
        print(report(runs, saved["seeds"], epochs, saved.get("threads", args.threads),
                     saved.get("command", "python benchmarks/fashion_mnist.py"),
                     saved.get("model", "mlp")))
        return
    if args.worker:
        load = os.getloadavg()[0]
        result = WORKERS[args.worker](args.seed, args.epochs, args.threads, args.limit,
                                      args.model)
        result["load"] = [load, os.getloadavg()[0]]
        result["n_train"] = args.limit or 60000
        print(json.dumps(result))
        return

    from harness import blas_line, interleave, worker_env

    print(blas_line(worker_env(args.threads)))
    me = str(Path(__file__).resolve())
    runs: dict[str, list[dict]] = {name: [] for name in args.only}
    for i, seed in enumerate(args.seeds):
        order = args.only if i % 2 == 0 else list(reversed(args.only))  # A B, then B A
        extra = ["--limit", str(args.limit)] if args.limit else []
        commands = {name: [me, "--worker", name, "--seed", str(seed), "--epochs",
                           str(args.epochs), "--threads", str(args.threads), "--model",
                           args.model, *extra]
                    for name in order}
        for name, rs in interleave(commands, rounds=1, env=worker_env(args.threads)).items():
            runs[name] += rs
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    command = ("python benchmarks/fashion_mnist.py " + " ".join(sys.argv[1:])).strip()
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"seeds": args.seeds, "threads": args.threads, "command": command, "runs": runs,
             "model": args.model}, indent=1))
    print(report(runs, args.seeds, args.epochs, args.threads, command, args.model))


if __name__ == "__main__":
    main()
