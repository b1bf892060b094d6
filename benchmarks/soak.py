"""Soak test and memory figures: long training runs must not leak, and graphs must not cycle.

    python benchmarks/soak.py                 # 10,000 steps of each model + the memory figures
    python benchmarks/soak.py --steps 500 --fashion-steps 100     # a quicker look
    python benchmarks/soak.py --json out.json

What it checks, for the scalar MLP (`nn.MLP` on two-moons), a small Tensor MLP (`nn.Sequential`
of Linear/ReLU, cross-entropy, Adam) and the Fashion-MNIST MLP (784-256-128-10 with Dropout, on
random images):

* resident memory (psutil RSS) after a warm-up grows by less than 5% over the run;
* with the cyclic garbage collector disabled for the whole run, `gc.collect()` at the end finds
  no unreachable object of ours (reference counting alone frees every graph: no cycles);
* a graph is freed as soon as the last reference to its loss goes away (weakref check).

And it measures: bytes per Value node, bytes of graph overhead per Tensor op, and the peak
numpy memory during backward of one Fashion-MNIST MLP step (784-256-128-10, batch 64), all with
tracemalloc (numpy reports its array buffers to tracemalloc).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import Tensor, Value, nn, optim  # noqa: E402
from tinygrad_edu.data import make_moons  # noqa: E402

OURS = "tinygrad_edu"


# ---- the two training loops ---------------------------------------------------------------------


def scalar_trainer(batch: int = 4, hidden: int = 8) -> Callable[[int], float]:
    """One step of a micrograd-style scalar MLP (logistic loss, SGD) on a few two-moons points."""
    tg.manual_seed(0)
    X, y = make_moons(64, noise=0.3, seed=0)
    X, y = X.tolist(), [1.0 if t else -1.0 for t in y.tolist()]
    model = nn.MLP(2, [hidden, hidden, 1])
    opt = optim.SGD(model.parameters(), lr=0.05)

    def step(i: int) -> float:
        lo = (i * batch) % (len(X) - batch)
        scores = [model(x) for x in X[lo:lo + batch]]
        losses = [(-yi * s).softplus() for yi, s in zip(y[lo:lo + batch], scores)]
        loss = sum(losses, Value(0.0)) * (1.0 / batch)  # never exactly 0: every step updates
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.data

    return step


def tensor_trainer(batch: int = 32, hidden: int = 32) -> Callable[[int], float]:
    """One step of a Tensor MLP (Linear-ReLU-Linear, cross-entropy, Adam) on two-moons."""
    tg.manual_seed(0)
    X, y = make_moons(512, noise=0.3, seed=0)
    X, y = X.astype(np.float32), y.astype(np.int64)
    model = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, 2))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(i: int) -> float:
        lo = (i * batch) % (len(X) - batch)
        loss = loss_fn(model(Tensor(X[lo:lo + batch])), Tensor(y[lo:lo + batch]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def fashion_trainer(batch: int = 64) -> Callable[[int], float]:
    """One step of the Fashion-MNIST MLP (784-256-128-10, Dropout, Adam) on random images."""
    from tinygrad_edu.train import build_model

    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    xs = rng.random((8, batch, 784), dtype=np.float32)
    ys = rng.integers(0, 10, (8, batch))
    model = build_model()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(i: int) -> float:
        loss = loss_fn(model(Tensor(xs[i % 8])), Tensor(ys[i % 8]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ---- leak checks --------------------------------------------------------------------------------


def is_ours(obj: object) -> bool:
    """Is this object a tinygrad_edu instance, or code (function, frame, cell) of ours?"""
    module = getattr(type(obj), "__module__", "") or ""
    if module.startswith(OURS):
        return True
    code = getattr(obj, "__code__", None) or getattr(obj, "f_code", None)
    return code is not None and OURS in (code.co_filename or "")


def unreachable_after(run: Callable[[], None]) -> tuple[int, list[str]]:
    """Run with the cyclic GC off; return (objects only the GC could free, those of ours).

    With DEBUG_SAVEALL the collector keeps what it finds in gc.garbage instead of freeing it,
    so we can look at it. Zero means reference counting alone freed everything the run made.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        run()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    ours = sorted({f"{type(o).__module__}.{type(o).__qualname__}" for o in found if is_ours(o)})
    return len(found), ours


def graph_freed_with_loss() -> dict[str, bool]:
    """Drop the last reference to a loss: its graph (an interior node) must be gone at once."""
    gc.disable()
    try:
        a, b = Value(2.0), Value(-3.0)
        mid = a * b
        loss = (mid + 1.0).tanh()
        ref_v = weakref.ref(mid)
        del mid
        alive_v = ref_v() is not None
        del loss
        value_ok = alive_v and ref_v() is None

        x = Tensor(np.ones((4, 3)), requires_grad=True)
        hidden = (x * 2.0).relu()
        tloss = hidden.sum()
        ref_t = weakref.ref(hidden)
        del hidden
        alive_t = ref_t() is not None
        tloss.backward()
        del tloss
        tensor_ok = alive_t and ref_t() is None
    finally:
        gc.enable()
    return {"value": value_ok, "tensor": tensor_ok}


def rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def soak(name: str, step: Callable[[int], float], steps: int, warmup: int) -> dict:
    """Run `steps` steps with the GC off; RSS after warm-up vs the end; unreachable objects."""
    for i in range(warmup):
        step(i)
    rss()  # psutil builds its classes on the first call: let that happen outside the run
    result: dict = {"engine": name, "steps": steps, "warmup": warmup}

    def run() -> None:
        result["rss_start"] = rss()
        t0 = time.perf_counter()
        for i in range(steps):
            result["last_loss"] = step(warmup + i)
        result["seconds"] = time.perf_counter() - t0
        result["rss_end"] = rss()

    total, ours = unreachable_after(run)
    result["rss_growth"] = (result["rss_end"] - result["rss_start"]) / result["rss_start"]
    result["unreachable"], result["unreachable_ours"] = total, ours
    return result


# ---- memory figures -----------------------------------------------------------------------------


def traced(fn: Callable[[], object]) -> tuple[int, object]:
    """Bytes still allocated (tracemalloc) after `fn()`, with its result kept alive."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = fn()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, kept


def bytes_per_value_node(n: int = 20000) -> float:
    """A chain y = y * a + b: each op is one Value node and its float."""
    a, b = Value(1.0001), Value(1e-4)

    def build() -> Value:
        y = Value(1.0)
        for _ in range(n):
            y = y * a + b
        return y

    size, _ = traced(build)
    return size / (2 * n)


def tensor_op_overhead(n: int = 5000, shape: tuple[int, ...] = (1,)) -> dict[str, float]:
    """Bytes per Tensor op with grad recording vs the same ops under no_grad (outputs kept)."""
    x = Tensor(np.ones(shape), requires_grad=True)
    w = Tensor(np.full(shape, 1.0001), requires_grad=True)

    def chain() -> list:
        ys, y = [], x
        for _ in range(n):
            y = y * w
            ys.append(y)
        return ys

    with_graph, _ = traced(chain)

    def chain_no_grad() -> list:
        with tg.no_grad():
            return chain()

    without, _ = traced(chain_no_grad)
    return {"with_graph": with_graph / n, "no_grad": without / n,
            "overhead": (with_graph - without) / n}


def fashion_mlp_backward_peak(batch: int = 64) -> dict[str, float]:
    """Peak traced memory (numpy buffers included) during backward of the 784-256-128-10 step."""
    from tinygrad_edu.train import build_model

    tg.manual_seed(0)
    model = build_model()
    rng = np.random.default_rng(0)
    xb = Tensor(rng.random((batch, 784), dtype=np.float32))
    yb = Tensor(rng.integers(0, 10, batch))
    loss_fn = nn.CrossEntropyLoss()
    params = sum(p.numel() * p._data.itemsize for p in model.parameters())
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loss = loss_fn(model(xb), yb)
        after_forward = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        loss.backward()
        _, peak_backward = tracemalloc.get_traced_memory()
        del loss
        after_free = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return {"param_bytes": params, "graph_after_forward": after_forward - base,
            "peak_during_backward": peak_backward - base,
            "kept_after_backward_and_del": after_free - base}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--fashion-steps", type=int, default=10_000,
                   help="steps of the 784-256-128-10 MLP (about 15 ms each; 0 to skip)")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)

    report: dict = {"freed": graph_freed_with_loss(), "runs": []}
    runs = (("scalar MLP 2-8-8-1 (nn.MLP, batch 4, logistic loss, SGD)", scalar_trainer,
             args.steps),
            ("Tensor MLP 2-32-32-2 (batch 32, cross-entropy, Adam)", tensor_trainer, args.steps),
            ("Fashion-MNIST MLP 784-256-128-10 (Dropout, batch 64, Adam)", fashion_trainer,
             args.fashion_steps))
    for name, make, steps in runs:
        if steps <= 0:
            continue
        r = soak(name, make(), steps, min(args.warmup, max(steps // 10, 10)))
        report["runs"].append(r)
        print(f"{name}: {r['steps']} steps in {r['seconds']:.1f} s, RSS "
              f"{r['rss_start'] / 2**20:.1f} -> {r['rss_end'] / 2**20:.1f} MiB "
              f"({100 * r['rss_growth']:+.2f}%), unreachable after the run: {r['unreachable']} "
              f"(ours: {r['unreachable_ours'] or 'none'}), last loss {r['last_loss']:.4f}")
    report["bytes_per_value_node"] = bytes_per_value_node()
    report["tensor_op"] = tensor_op_overhead()
    report["fashion_mlp"] = fashion_mlp_backward_peak()
    print(f"graph freed when the loss goes: {report['freed']}")
    print(f"bytes per Value node: {report['bytes_per_value_node']:.0f}")
    t = report["tensor_op"]
    print(f"Tensor op (shape (1,), float64, y = y * w): {t['with_graph']:.0f} B with the graph, "
          f"{t['no_grad']:.0f} B under no_grad: graph overhead {t['overhead']:.0f} B per op")
    f = report["fashion_mlp"]
    print(f"Fashion-MNIST MLP step (batch 64): params {f['param_bytes'] / 2**20:.2f} MiB, graph "
          f"after forward {f['graph_after_forward'] / 2**20:.2f} MiB, peak during backward "
          f"{f['peak_during_backward'] / 2**20:.2f} MiB, left after backward and del loss "
          f"{f['kept_after_backward_and_del'] / 2**20:.2f} MiB (the .grad arrays)")
    ok = (all(report["freed"].values())
          and all(r["rss_growth"] < 0.05 and not r["unreachable_ours"] for r in report["runs"]))
    print("PASS" if ok else "FAIL")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
