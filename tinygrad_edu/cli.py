"""The `tinygrad-edu` command: `demo` shows what the library does, `graph` draws an expression's
graph and its backward pass, `train` trains the Fashion-MNIST MLP."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(steps=args.steps, seed=args.seed, out=args.out, quiet=args.quiet)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="tinygrad_edu: an autograd engine to learn deep learning on.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="the tour: a neuron's graph and step-through, a scalar and a Tensor MLP"
    )
    demo.add_argument("--steps", type=int, default=50,
                      help="training steps of the scalar MLP (default 50)")
    demo.add_argument("--out", default="demo-output",
                      help="folder for the drawings, the player and the plots")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(run=_demo)
    from .train import add_parser as add_train_parser
    from .viz.command import add_parser as add_graph_parser

    add_graph_parser(commands)
    add_train_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)
