"""The `tinygrad-edu` command: `demo` shows what the library does, `graph` draws an expression's
graph and its backward pass, `train` trains the Fashion-MNIST MLP (or, `--model charlm`, a
character-level language model), `sample` generates names from such a model."""

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
    from .train import _positive_int, _seed

    demo = commands.add_parser(
        "demo", help="the tour: a neuron's graph and step-through, a scalar and a Tensor MLP",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""A tour of the library in about 30 s:
  1. one neuron, tanh(x1*w1 + x2*w2 + b), built from Values: its graph drawn
     (neuron.svg) and its backward pass in a step-through player (neuron_steps.html)
  2. an MLP of scalar Values learns two-moons with SGD
  3. a Tensor MLP (nn.Sequential, Adam) learns two spirals
and the decision boundaries and loss curves of both are plotted (needs matplotlib).""",
        epilog="example:\n  tinygrad-edu demo --out tour\n  then open tour/neuron_steps.html "
               "in a browser and press the right arrow",
    )
    demo.add_argument("--steps", type=_positive_int, default=50, metavar="N",
                      help="SGD steps of the scalar MLP on two-moons (default 50)")
    demo.add_argument("--out", default="demo-output", metavar="DIR",
                      help="folder for the drawing, the player and the plots, created if "
                           "missing (default demo-output)")
    demo.add_argument("--seed", type=_seed, default=0, metavar="SEED",
                      help="random seed of the weights and the data sets (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(run=_demo)
    from .train import add_parser as add_train_parser
    from .viz.command import add_parser as add_graph_parser

    add_graph_parser(commands)
    add_train_parser(commands)
    from .charlm import add_sample_parser

    add_sample_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)
