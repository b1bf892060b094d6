"""Where a Value step's time goes, per node: the profile behind the scalar engine's design.

    python benchmarks/value_profile.py [--repeats 7]

On micrograd's demo workload (value_vs_micrograd.py: MLP 2-16-16-1, 100 points), and on the
pieces one op is made of, each timed in this process on CPU time (time.process_time, the
minimum of `repeats` runs: the least disturbed by other jobs on a shared machine):

* forward, per op: creating the object, writing its slots, the grad-mode check, the forward
  rule, and the whole `a * b` (method dispatch included);
* backward, per node: the topological sort, the driver's loop (everything else), and inside
  it the rule calls and the gradient accumulation, timed alone;
* the cyclic GC: the same forward with the collector on and off.

micrograd's `a * b` and its backward per node are timed the same way, for scale.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import operator
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

N = 20_000  # ops per timing loop


def best(fn: Callable[[], object], repeats: int) -> float:
    """The smallest CPU time of `repeats` calls of fn, in seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


@contextlib.contextmanager
def gc_off():
    """The cyclic GC off inside (timing the pieces alone), restored to what it was after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def per_op(fn: Callable[[], object], repeats: int, n: int = N) -> float:
    """ns per iteration of fn's loop of n, minus the bare loop's own cost."""
    return (best(fn, repeats) - best(lambda: [None for _ in range(n)], repeats)) / n * 1e9


def forward_pieces(repeats: int) -> dict[str, float]:
    from tinygrad_edu import Value
    from tinygrad_edu.autograd.mode import MODE
    from tinygrad_edu.value import MUL

    new = object.__new__
    a, b = Value(1.5), Value(2.5)

    def create():
        return [new(Value) for _ in range(N)]

    def create_and_write():
        out = []
        for _ in range(N):
            v = new(Value)
            v.data = 1.0
            v.grad = 0.0
            v._g = v._hooks = None
            v._op = MUL
            v._a = a
            v._b = b
            out.append(v)
        return out

    def mode_check():
        return [MODE.grad_enabled for _ in range(N)]

    def rule():
        x, y = 1.5, 2.5
        return [operator.mul(x, y) for _ in range(N)]

    def whole():
        return [a * b for _ in range(N)]

    with gc_off():
        return {"object creation": per_op(create, repeats),
                "creation + 7 slot writes": per_op(create_and_write, repeats),
                "grad-mode check (thread-local read)": per_op(mode_check, repeats),
                "forward rule (operator.mul)": per_op(rule, repeats),
                "whole `a * b`": per_op(whole, repeats)}


def micrograd_op(repeats: int) -> float:
    from micrograd.engine import Value

    a, b = Value(1.5), Value(2.5)
    with gc_off():
        return per_op(lambda: [a * b for _ in range(N)], repeats)


def workload(name: str):
    from value_vs_micrograd import engine, moons

    Value, MLP = engine(name)
    X, y = moons()
    model = MLP(2, [16, 16, 1])
    params = model.parameters()

    def build():
        scores = [model([Value(a), Value(b)]) for a, b in X]
        losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
        return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)

    return build


def backward_pieces(repeats: int) -> dict[str, float]:
    from tinygrad_edu.autograd.graph import topological_order

    build = workload("ours")
    nodes = len(topological_order([build()]))
    with gc_off():
        topo, loop = [], []
        for _ in range(repeats):  # the sort, then the whole backward, on the same graph
            root = build()
            t = _timed(lambda root=root: topological_order([root]))
            topo.append(t)
            loop.append(_timed(root.backward) - t)
        fwd_off = best(build, repeats)
        rules = _rule_calls(repeats)
    fwd_on = best(build, repeats)
    return {"nodes": nodes,
            "topological sort": min(topo) / nodes * 1e9,
            "driver loop (all but the sort)": min(loop) / nodes * 1e9,
            "  of which: two rule calls of '*' (alone)": rules["rules"],
            "  of which: accumulating into two parents (alone)": rules["accumulate"],
            "forward per node, GC off": fwd_off / nodes * 1e9,
            "forward per node, GC on": fwd_on / nodes * 1e9}


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def _rule_calls(repeats: int) -> dict[str, float]:
    from tinygrad_edu import Value
    from tinygrad_edu.value import MUL

    da, db = MUL.derivatives
    out, x, y, g = 3.75, 1.5, 2.5, 1.0

    def rules():
        return [(g * da(out, x, y), g * db(out, x, y)) for _ in range(N)]

    a, b = Value(1.0), Value(2.0)

    def accumulate():
        for _ in range(N):
            pending = a._g
            a._g = g if pending is None else pending + g
            pending = b._g
            b._g = g if pending is None else pending + g

    return {"rules": per_op(rules, repeats), "accumulate": per_op(accumulate, repeats)}


def micrograd_backward(repeats: int) -> dict[str, float]:
    build = workload("micrograd")
    with gc_off():
        losses = [build() for _ in range(repeats)]
        topo: list = []
        seen: set = set()
        stack = [losses[0]]
        while stack:  # count micrograd's nodes without its recursion
            v = stack.pop()
            if v not in seen:
                seen.add(v)
                topo.append(v)
                stack.extend(v._prev)
        total = min(_timed(r.backward) for r in losses)
        fwd = best(build, repeats)
    return {"nodes": len(topo), "backward per node": total / len(topo) * 1e9,
            "forward per node, GC off": fwd / len(topo) * 1e9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    sys.setrecursionlimit(10_000)
    print("### Forward, per op (ns)\n\n| piece | ns |\n|---|---:|")
    for k, v in forward_pieces(args.repeats).items():
        print(f"| {k} | {v:.0f} |")
    print(f"| micrograd's whole `a * b` (GC off) | {micrograd_op(args.repeats):.0f} |")
    ours = backward_pieces(args.repeats)
    print(f"\n### The demo step's graph ({ours.pop('nodes'):,} nodes), per node (ns)\n")
    print("| piece | ns |\n|---|---:|")
    for k, v in ours.items():
        print(f"| {k} | {v:.0f} |")
    mg = micrograd_backward(args.repeats)
    print(f"| micrograd backward, whole ({mg['nodes']:,} nodes, GC off) | "
          f"{mg['backward per node']:.0f} |")
    print(f"| micrograd forward, GC off | {mg['forward per node, GC off']:.0f} |")


if __name__ == "__main__":
    main()
