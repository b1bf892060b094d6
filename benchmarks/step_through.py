"""The step-through of a 300-step scalar MLP loss: one layout restyled vs a layout per frame.

    python benchmarks/step_through.py --rounds 2

Workload: `MLP(3, [4, 4, 1])` of Values, squared error on two samples (301 frames). Contenders,
interleaved in fresh processes (harness.py):

  one layout       step_through(loss).to_html(): dot runs once, frames are style changes
  dot per frame    the frames laid out and rendered by dot one by one (Stepper.drawing(k)),
                   as the player did before: the peer this design replaces

Each worker reports seconds (building the frames included) and the bytes it produced. Goal:
300 steps in under 5 s and under 500 KB.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def loss_graph():
    from tinygrad_edu import Value
    from tinygrad_edu import random as tge_random
    from tinygrad_edu.nn.scalar import MLP

    tge_random.manual_seed(0)
    model = MLP(3, [4, 4, 1])
    data = [([2.0, 3.0, -1.0], 1.0), ([3.0, -1.0, 0.5], -1.0)]
    return sum(((model(x) - y) ** 2 for x, y in data), Value(0.0))


def worker(kind: str) -> None:
    from tinygrad_edu.viz import step_through
    from tinygrad_edu.viz.render import render_many

    start = time.perf_counter()
    s = step_through(loss_graph())
    if kind == "one layout":
        size = len(s.to_html().encode("utf-8"))
    else:
        size = sum(len(svg.encode("utf-8"))
                   for svg in render_many([s.drawing(k).source for k in range(len(s))],
                                          timeout=1200.0))
    print(json.dumps({"seconds": time.perf_counter() - start, "bytes": size,
                      "frames": len(s)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--worker", choices=["one layout", "dot per frame"])
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    from harness import interleave, median_table, worker_env

    me = str(Path(__file__).resolve())
    for threads in (1, 2):
        results = interleave({name: [me, "--worker", name]
                              for name in ("one layout", "dot per frame")},
                             args.rounds, env=worker_env(threads))
        print(f"\n### {threads} thread{'s' * (threads > 1)}\n")
        print(median_table(results, "seconds", "one layout", unit="s", scale=1.0))
        for name, runs in results.items():
            print(f"- {name}: {runs[-1]['frames']} frames, {runs[-1]['bytes'] / 1024:.0f} KB")


if __name__ == "__main__":
    main()
