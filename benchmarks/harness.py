"""Run benchmark contenders interleaved, A B A B, each run in a fresh process; report medians.

Machines here are shared and flip between fast and slow modes within minutes, so contenders
are never timed in separate blocks: each round runs every contender once, in turn, and the
ratio of medians is what we report. A worker is any command that prints one JSON object
(its measurements) as the last line of its output.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["HEAP_STATES", "add_base_option", "blas_line", "interleave", "median_table",
           "settle_heap", "start_worker", "with_base", "worker_env"]


HEAP_STATES = ("cold", "warm")


def settle_heap(state: str) -> None:
    """Put this worker's C heap in `state` before it times anything.

    glibc's malloc sizes its thresholds from the largest block freed so far: until a process
    has freed a block of several MB, memory freed at the top of the heap goes back to the OS
    after every step and the next step page-faults it in again (about 1,300 faults per step of
    the batch-512 MLP, a third of its time). Loading any real dataset frees such a block (the
    decompressed file, a float64 copy), so a training script runs "warm"; a benchmark that
    makes its data in place runs "cold". Each contender gets the same state; we report both.
    """
    if state == "warm":
        import numpy as np

        block = np.ones(2 << 20)  # 16 MB, under glibc's 32 MB cap for the adaptive threshold
        del block
    elif state != "cold":
        raise ValueError(f"settle_heap: state must be one of {HEAP_STATES}, got {state!r}")


def worker_env(threads: int | None = None) -> dict[str, str]:
    """The environment for a worker: the same thread count for every contender."""
    env = dict(os.environ)
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    return env


def blas_line(env: Mapping[str, str] | None = None) -> str:
    """Which kernels numpy's OpenBLAS runs in a worker with `env`, as a line for the report.

    OPENBLAS_CORETYPE, when set, picks them (this workplace sets it to Haswell on its AVX-512
    machines, whose AVX2 kernels take about twice as long as their own): a report says which
    ran. To measure a current numpy at its speed, run the benchmark with
    `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`.
    """
    probe = ("from tinygrad_edu.blas import info; i = info(); "
             "print(i['kernels'], i['threads'], i['note'] or '', sep='|')")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=dict(env) if env is not None else None, check=True)
    kernels, threads, note = out.stdout.strip().split("|", 2)
    forced = (env if env is not None else os.environ).get("OPENBLAS_CORETYPE")
    how = f"OPENBLAS_CORETYPE={forced}" if forced else "OPENBLAS_CORETYPE unset"
    return (f"numpy's BLAS: OpenBLAS, {kernels} kernels ({how}), {threads} thread(s)"
            + (f". Note: {note}" if note else ""))


def add_base_option(parser: argparse.ArgumentParser) -> None:
    """`--base TREE`: tinygrad_edu as found in another source tree (a commit checked out with
    `git worktree add`) runs as one more contender, to measure a change A B A B."""
    parser.add_argument("--base", help="a source tree whose tinygrad_edu is one more contender")
    parser.add_argument("--tree", help=argparse.SUPPRESS)  # a worker's tree, first on sys.path


def start_worker(args: argparse.Namespace, heap: str) -> None:
    """In a worker, before it imports tinygrad_edu or times anything: take tinygrad_edu from
    the tree it was given (--tree), and put the C heap in state `heap` (settle_heap)."""
    if args.tree:
        sys.path.insert(0, args.tree)
    settle_heap(heap)


def with_base(contenders: dict[str, list[str]], args: argparse.Namespace,
              name: str = "tinygrad_edu") -> dict[str, list[str]]:
    """The contenders, plus `name` run from the --base tree when one is given."""
    if args.base:
        contenders[f"{name} (base)"] = [*contenders[name], "--tree", str(Path(args.base).resolve())]
    return contenders


def interleave(
    contenders: Mapping[str, Sequence[str]], rounds: int, env: Mapping[str, str] | None = None
) -> dict[str, list[dict]]:
    """Run each contender's command once per round, in turn; collect each run's JSON result."""
    results: dict[str, list[dict]] = {name: [] for name in contenders}
    for r in range(rounds):
        order = list(contenders) if r % 2 == 0 else list(reversed(list(contenders)))
        for name in order:
            out = subprocess.run(
                [sys.executable, *contenders[name]], capture_output=True, text=True,
                env=dict(env) if env is not None else None, check=False,
            )
            if out.returncode != 0:
                raise RuntimeError(f"benchmark worker {name!r} failed:\n{out.stderr[-2000:]}")
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  round {r + 1}/{rounds} {name}: {results[name][-1]}", file=sys.stderr)
    return results


def median_table(
    results: Mapping[str, list[dict]], metric: str, baseline: str, unit: str = "ms",
    scale: float = 1e3,
) -> str:
    """A markdown table of each contender's median `metric` and its ratio to `baseline`."""
    medians = {k: statistics.median(r[metric] for r in runs) for k, runs in results.items()}
    rows = [f"| contender | median {metric} ({unit}) | runs | ratio to {baseline} |",
            "|---|---:|---:|---:|"]
    for name, m in medians.items():
        runs = len(results[name])
        rows.append(f"| {name} | {m * scale:.3f} | {runs} | {m / medians[baseline]:.2f} |")
    return "\n".join(rows)
