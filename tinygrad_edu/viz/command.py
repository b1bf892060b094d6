"""`tinygrad-edu graph`: draw a formula's graph and show its backward pass step by step.

    tinygrad-edu graph "tanh(a*b + c)" a=2 b=-3 c=10 --out graph.svg --steps steps.html

Builds the formula from Values (parsed safely, see expression.py), runs backward, prints the
gradients and the chain-rule table, and writes the drawing and the step-through player.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from . import nodes as nd
from .draw import draw_graph
from .expression import ALLOWED, ExpressionError, build_expression
from .render import PDF_HINT, RenderError, renderer_formats
from .stepper import Stepper
from .trace import trace_backward, trace_forward

__all__ = ["add_parser", "run"]

# --out's file types; .dot and .gv are the DOT text itself, the others need the layout program
# to write that format (graphviz-pure writes svg, png and jpg; only the system Graphviz pdf)
OUT_FORMATS = {".svg": "svg", ".png": "png", ".jpg": "jpg", ".jpeg": "jpeg", ".pdf": "pdf",
               ".dot": "dot", ".gv": "dot"}
_ALWAYS = [s for s, f in OUT_FORMATS.items() if f != "pdf"]
OUT_HELP = f"{', '.join(_ALWAYS[:-1])} or {_ALWAYS[-1]} (.pdf needs the system Graphviz)"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `graph` command to an argparse sub-parser collection (sets `run=run`)."""
    p = subparsers.add_parser(
        "graph",
        help="draw a formula's computation graph and step through its backward pass",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""Build a formula from Values, run backward, print the gradients and every
chain-rule step, and write the drawing (--out) and a step-through player (--steps).""",
        epilog="""examples:
  tinygrad-edu graph "tanh(a*b + c)" a=2 b=-3 c=10 --out graph.svg --steps steps.html
  tinygrad-edu graph -- "-x**2" x=3      (a formula starting with "-" goes after --)""",
    )
    p.add_argument("expression", help='the formula, e.g. "tanh(a*b + c)" (quote it). '
                   + ALLOWED)
    p.add_argument("values", nargs="*", metavar="NAME=VALUE",
                   help="a number for each variable of the formula, e.g. a=2 b=-3.5")
    p.add_argument("--out", metavar="FILE", help=f"write the drawing: {OUT_HELP}")
    p.add_argument("--steps", metavar="FILE", help="write the step-through player (.html)")
    p.add_argument("--rankdir", default="LR", choices=["LR", "TB", "RL", "BT"],
                   help="layout direction of the drawing (default: LR, inputs on the left)")
    p.set_defaults(run=run)
    return p


def _values(pairs: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"expected NAME=VALUE, got {pair!r} (for example a=2.0)")
        if name in out:
            raise ValueError(f"{name} is given twice")
        try:
            out[name] = float(number)
        except ValueError:
            raise ValueError(f"the value of {name} must be a number, got {number!r}") from None
        if math.isinf(out[name]) and "inf" not in number.lower():  # 1e400: not what was meant
            raise ValueError(f"the value of {name} is too large for a float (the largest is "
                             f"about {sys.float_info.max:.3g}), got {number[:40]!r}")
    return out


def run(args: argparse.Namespace) -> int:
    """Run the `graph` command; returns the exit code (0 ok, 2 bad input, 1 failed)."""
    err = sys.stderr
    out_fmt = None
    if args.out:
        out_fmt = OUT_FORMATS.get(Path(args.out).suffix.lower())
        if out_fmt is None:
            print(f"graph: --out must end in {OUT_HELP}; got {args.out}", file=err)
            return 2
        try:  # a program that does not list its formats gets to try any of them
            writable = {"dot"} | (renderer_formats() or set(OUT_FORMATS.values()))
        except RenderError as e:
            print(f"graph: {e}", file=err)
            return 1
        if out_fmt not in writable:
            usable = ", ".join(s for s, f in OUT_FORMATS.items() if f in writable)
            print(f"graph: --out {args.out}: the installed layout program cannot write "
                  f"{out_fmt}; use {usable}.{PDF_HINT * (out_fmt == 'pdf')}", file=err)
            return 2
    try:
        values = _values(args.values)
        root, inputs = build_expression(args.expression, values)
    except ExpressionError as e:
        print(f"graph: bad expression: {e}", file=err)
        return 2
    except ValueError as e:
        print(f"graph: {e}", file=err)
        return 2
    used = {id(n) for n in nd.walk([root])}
    unused = [name for name, v in inputs.items() if id(v) not in used]
    if unused:
        print(f"graph: note: {', '.join(unused)} not used in the expression", file=err)
    forward = trace_forward(root)
    stepper = None
    try:  # the step-through refuses graphs too big to step through, before running backward
        if args.steps:
            stepper = Stepper(root, rankdir=args.rankdir)
            trace = stepper.backward_trace
        else:
            trace = trace_backward(root)
    except (ArithmeticError, ValueError) as e:
        print(f"graph: {e}", file=err)
        return 1
    assert trace is not None
    rname = trace.names[id(root)]
    print(f"{rname} = {args.expression} = {nd.fmt(root.data)}\n")
    print("forward:")
    for step in forward:
        print("  " + step.explanation)
    print("\ngradients:")
    width = max([len(n) for n in inputs] + [1])
    for name, v in inputs.items():
        if id(v) in used:
            print(f"  d{rname}/d{name.ljust(width)} = {nd.fmt(v.grad)}")
    print()
    print(trace)
    try:
        if args.out:
            drawing = draw_graph(root, args.rankdir)
            if out_fmt == "dot":
                Path(args.out).write_text(drawing.source, encoding="utf-8")
            else:
                Path(args.out).write_bytes(drawing.pipe(out_fmt))
            print(f"\nwrote the drawing to {args.out}")
        if stepper is not None:
            stepper.save_html(args.steps)
            print(f"wrote the step-through ({len(stepper)} steps) to {args.steps}")
    except (RenderError, OSError) as e:
        print(f"graph: {e}", file=err)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run `graph` on its own: python -m tinygrad_edu.viz.command "x**2" x=3."""
    parser = argparse.ArgumentParser(prog="tinygrad-edu")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["graph", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
