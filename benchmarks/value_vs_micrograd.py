"""Scalar engine vs micrograd 0.1.0 on micrograd's own demo workload, side by side.

    python benchmarks/value_vs_micrograd.py [--rounds 5] [--steps 10] [--big-chain 10000000]

One step: MLP(2, [16, 16, 1]) on 100 two-moons points, SVM max-margin loss plus 1e-4 L2,
forward + backward + SGD, each library with its own MLP class. micrograd runs twice: as
shipped, and with the cyclic GC disabled (its closures make every graph a reference cycle, so
as shipped it pays for GC passes; with the GC off it leaks, but shows its machinery's own
speed). Also: nodes per second for building and for backward on a 10**6-op chain, bytes per
node, and (with --big-chain) one chain of 10**7 nodes built and backpropagated. Contenders
run interleaved in separate processes (see harness.py); the figures go in RESULTS.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def moons(n: int = 100) -> tuple[list[list[float]], list[float]]:
    """The same 100 points for both contenders (fixed seed, plain numpy)."""
    rng = np.random.default_rng(1337)
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t)) + rng.normal(0, 0.1, n)
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t)) + rng.normal(0, 0.1, n)
    return np.stack([x, y], 1).tolist(), np.where(upper, -1.0, 1.0).tolist()


CONTENDERS = ("ours", "micrograd", "micrograd-gc-off")


def engine(name: str):
    if name == "micrograd-gc-off":  # micrograd's machinery without its cyclic-GC bill
        gc.disable()
    if name.startswith("micrograd"):
        from micrograd.engine import Value
        from micrograd.nn import MLP
    else:
        from tinygrad_edu import Value
        from tinygrad_edu.nn import MLP
    return Value, MLP


def step_worker(name: str, steps: int) -> dict:
    Value, MLP = engine(name)
    X, y = moons()
    model = MLP(2, [16, 16, 1])

    def step(k: int) -> float:
        scores = [model([Value(a), Value(b)]) for a, b in X]
        losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
        total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= lr * p.grad
        return total.data

    step(0)  # warm-up
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        loss = step(k)
        times.append(time.perf_counter() - t0)
    return {"step": float(np.median(times)), "loss": loss}


def chain_worker(name: str, n: int) -> dict:
    Value, _ = engine(name)
    x = Value(0.5)
    y = x
    t0 = time.perf_counter()
    for _ in range(n):
        y = y + 1.0  # each op makes two nodes: the constant and the sum
    build = time.perf_counter() - t0
    result = {"build_nodes_per_s": 2 * n / build}
    t0 = time.perf_counter()
    try:
        y.backward()
        result["backward_nodes_per_s"] = 2 * n / (time.perf_counter() - t0)
    except RecursionError:
        result["backward_nodes_per_s"] = None  # recursive topological sort gives up
    del x, y
    gc.collect()
    result["bytes_per_node"] = bytes_per_node(Value, "add_const")
    result["bytes_per_node_mul_add"] = bytes_per_node(Value, "mul_add")
    return result


def bytes_per_node(Value, chain: str, n: int = 100_000) -> float:
    """tracemalloc's count of the bytes a chain of n ops holds, per node it made."""
    a, b = Value(0.5), Value(0.25)
    tracemalloc.start()
    x = Value(0.5)
    y = x
    if chain == "add_const":  # y + 1.0: a constant node and a sum node per op
        for _ in range(n):
            y = y + 1.0
        nodes = 2 * n
    else:  # y * a + b with shared a, b: two interior nodes per step
        for _ in range(n):
            y = y * a + b
        nodes = 2 * n
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return size / nodes


def big_chain_worker(n: int) -> dict:
    """Build and backpropagate a chain of n nodes (y = y * a + b, shared a and b), watching
    the process's memory: peak RSS, and the graph's bytes per node by RSS."""
    import resource

    from tinygrad_edu import Value

    def rss() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    a, b = Value(1.0000001), Value(1e-9)
    start = rss()
    t0 = time.perf_counter()
    x = Value(0.5)
    y = x
    for _ in range(n // 2):
        y = y * a + b
    build = time.perf_counter() - t0
    built = rss()
    t0 = time.perf_counter()
    y.backward()
    backward = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"nodes": n, "build_s": build, "backward_s": backward,
            "graph_bytes_per_node": (built - start) / n, "peak_rss_gib": peak / 2**30,
            "backward_peak_extra_bytes_per_node": (peak - built) / n, "x_grad": x.grad}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=CONTENDERS)
    parser.add_argument("--task", choices=["step", "chain", "big-chain"], default="step")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--chain", type=int, default=1_000_000)
    parser.add_argument("--big-chain", type=int, default=0,
                        help="also build and backpropagate one chain of this many nodes (ours)")
    args = parser.parse_args()
    if args.task == "big-chain":
        print(json.dumps(big_chain_worker(args.big_chain)))
        return
    if args.worker:
        sys.setrecursionlimit(10_000)  # micrograd's default-limit failure is at ~1000 deep
        run = step_worker(args.worker, args.steps) if args.task == "step" else chain_worker(
            args.worker, args.chain)
        print(json.dumps(run))
        return

    from harness import interleave, median_table

    me = str(Path(__file__).resolve())
    steps = interleave({name: [me, "--worker", name, "--steps", str(args.steps)]
                        for name in CONTENDERS}, args.rounds)
    print("### One training step (forward + backward + SGD), median of per-step medians\n")
    print(median_table(steps, "step", baseline="ours"))
    chains = interleave({name: [me, "--worker", name, "--task", "chain", "--chain",
                                str(args.chain)] for name in ("ours", "micrograd")}, 3)
    print(f"\n### Chain of {args.chain:,} ops (2 nodes each)\n")
    print("| contender | build nodes/s | backward nodes/s | bytes per node (y + 1.0) "
          "| bytes per node (y * a + b) |\n|---|---:|---:|---:|---:|")
    for name, runs in chains.items():
        med = {k: np.median([r[k] for r in runs]) if runs[0][k] is not None else None
               for k in runs[0]}
        bwd = med["backward_nodes_per_s"]
        bwd_s = f"{bwd:,.0f}" if bwd is not None else "RecursionError"
        print(f"| {name} | {med['build_nodes_per_s']:,.0f} | {bwd_s} | "
              f"{med['bytes_per_node']:.0f} | {med['bytes_per_node_mul_add']:.0f} |")
    if args.big_chain:
        big = interleave({"ours": [me, "--task", "big-chain", "--big-chain",
                                   str(args.big_chain)]}, 1)["ours"][0]
        print(f"\n### One chain of {big['nodes']:,} nodes (y = y * a + b), ours\n")
        print(f"build {big['build_s']:.1f} s, backward {big['backward_s']:.1f} s, graph "
              f"{big['graph_bytes_per_node']:.0f} bytes per node (RSS), backward's extra "
              f"{big['backward_peak_extra_bytes_per_node']:.0f} bytes per node, peak RSS "
              f"{big['peak_rss_gib']:.2f} GiB")


if __name__ == "__main__":
    main()
