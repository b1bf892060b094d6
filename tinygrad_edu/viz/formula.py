"""The formula beside each derivative rule, shown with the graph's own names and numbers.

Each row of the op tables (value.py, tensor/ops.py) carries `formulas`: per input, its rule as
a small Python expression over the rule's own parameter names, e.g. `1 - out**2` for tanh (a
Value op: d(out)/d(a)) or `g @ b.T` for matmul (a Tensor op: the gradient of input a, given
the output's gradient g). The same text is evaluated numerically in the tests and compared
with the rule, so a wrong formula fails like a wrong derivative; here it is only printed:

    show("1 - out**2", {"out": "o"})              ->  '1 - o²'
    show("g @ b.T", {"g": "dL/dY", "b": "W"})      ->  'dL/dY @ Wᵀ'

`evaluate` computes a formula on numbers or arrays (the helpers it may call are in HELPERS):
the usual math (exp, tanh, atan2, hypot, log1p, floor, ...) and the few array moves the rules
make (spread for a reduction, scatter/gather, windows/col2im for unfold, gate/gates for the
LSTM rows), each written out here on its own, never by calling the rule it stands beside, so
that checking a formula against its rule means something.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

__all__ = ["HELPERS", "evaluate", "show", "operands"]

_SUPER = {2: "\u00b2", 3: "\u00b3"}
_BIN = {ast.BitOr: ("|", 1), ast.BitAnd: ("&", 1), ast.Add: ("+", 2), ast.Sub: ("-", 2),
        ast.Mult: ("*", 3), ast.Div: ("/", 3), ast.FloorDiv: ("//", 3), ast.Mod: ("%", 3),
        ast.MatMult: ("@", 3), ast.Pow: ("**", 5)}
_CMP = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}


def _np_or_math(np_fn: Any, math_fn: Any) -> Any:
    """np_fn on arrays, math_fn on plain numbers (as the scalar Value rules compute)."""
    def fn(*xs: Any) -> Any:
        return np_fn(*xs) if any(isinstance(x, np.ndarray) for x in xs) else math_fn(*xs)
    return fn


# name -> (numpy's function, math's): what a formula may write as name(x) (or name(x, y))
_MATH = {
    "exp": (np.exp, math.exp), "exp2": (np.exp2, math.exp2), "expm1": (np.expm1, math.expm1),
    "log": (np.log, math.log), "log2": (np.log2, math.log2), "log10": (np.log10, math.log10),
    "log1p": (np.log1p, math.log1p), "sqrt": (np.sqrt, math.sqrt), "abs": (np.abs, abs),
    "sin": (np.sin, math.sin), "cos": (np.cos, math.cos), "tan": (np.tan, math.tan),
    "asin": (np.arcsin, math.asin), "acos": (np.arccos, math.acos),
    "atan": (np.arctan, math.atan), "atan2": (np.arctan2, math.atan2),
    "sinh": (np.sinh, math.sinh), "cosh": (np.cosh, math.cosh), "tanh": (np.tanh, math.tanh),
    "asinh": (np.arcsinh, math.asinh), "acosh": (np.arccosh, math.acosh),
    "atanh": (np.arctanh, math.atanh), "hypot": (np.hypot, math.hypot),
    "floor": (np.floor, math.floor), "ceil": (np.ceil, math.ceil),
    "trunc": (np.trunc, math.trunc), "copysign": (np.copysign, math.copysign),
}


def _sigmoid(x: Any) -> Any:
    return 1 / (1 + np.exp(-x)) if isinstance(x, np.ndarray) else 1 / (1 + math.exp(-x))


def _erf(x: Any) -> Any:
    return np.vectorize(math.erf)(x) if isinstance(x, np.ndarray) else math.erf(x)


def _Phi(x: Any) -> Any:  # the standard normal CDF
    return 0.5 * (1 + _erf(x / math.sqrt(2)))


def _phi(x: Any) -> Any:  # the standard normal density
    return _np_or_math(np.exp, math.exp)(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _spread(g: Any, axes: Any, keepdim: bool, shape: tuple) -> Any:
    """A reduction's gradient copied back along the reduced axes, to the input's shape."""
    if not keepdim:
        g = np.reshape(g, tuple(1 if axes is None or i in axes else n
                                for i, n in enumerate(shape)))
    return np.broadcast_to(g, shape)


def _at_max(a: Any, out: Any, axes: Any, keepdim: bool) -> Any:
    """1/(number of tied maxima) where `a` reaches its max along `axes`, else 0."""
    hit = a == _spread(out, axes, keepdim, a.shape)
    return hit / np.sum(hit, axis=axes, keepdims=True)


def _scatter(g: Any, idx: Any, shape: tuple) -> Any:
    """Zeros of `shape` with g added at `idx` (repeated indices add up)."""
    out = np.zeros(shape, dtype=g.dtype)
    np.add.at(out, idx, g)
    return out


def _gather(x: Any, dim: int, idx: Any) -> Any:
    """x[..., idx[j], ...] along dim for every place j of idx (torch's gather)."""
    return np.take_along_axis(x, idx, axis=dim)


def _scatter_add(shape: tuple, dim: int, idx: Any, src: Any) -> Any:
    """Zeros of shape with each src[j] added at place idx[j] along dim, the other coordinates
    those of j (torch's scatter_add; repeated places add up): gather's gradient."""
    out = np.zeros(shape, dtype=src.dtype)
    places = list(np.indices(idx.shape, sparse=True))
    places[dim] = idx
    np.add.at(out, tuple(places), src)
    return out


# ---- sliding windows (the unfold rows): im2col and col2im, written out once more ----------------
# win = (dims, sizes, steps, dilations): along each dim of dims, windows of `sizes` taps,
# `dilations` apart, one starting every `steps`.


def _windows(x: Any, win: tuple, fill: Any = None) -> Any:
    """Every window of x (im2col): x padded as win says (with win's fill, or `fill`), then each
    dim of win's dims counts window positions, and the taps of a window are new last dims.
    numpy's sliding windows, thinned to the steps and dilations."""
    dims, sizes, steps, dilations, pads, win_fill = win
    widths = [(0, 0)] * np.ndim(x)
    for d, lo_hi in zip(dims, pads):
        widths[d] = lo_hi
    x = np.pad(x, widths, constant_values=win_fill if fill is None else fill)
    spans = [dl * (k - 1) + 1 for k, dl in zip(sizes, dilations)]
    view = np.lib.stride_tricks.sliding_window_view(x, spans, axis=dims)
    step = dict(zip(dims, steps))
    return view[tuple(slice(None, None, step.get(d, 1)) for d in range(x.ndim))
                + tuple(slice(None, None, dl) for dl in dilations)]


def _crop(x: Any, shape: tuple) -> Any:
    """The first shape[d] entries of x along each dim d."""
    return x[tuple(slice(0, n) for n in shape)]


def _col2im(g: Any, in_shape: tuple, win: tuple) -> Any:
    """Zeros of in_shape with every window entry of g added back at the place it was taken from
    (col2im): the windows of the places 0, 1, 2, ... of in_shape (the padding: -1, nowhere)
    say where each entry goes."""
    places = _crop(_windows(np.arange(math.prod(in_shape)).reshape(in_shape), win, -1), g.shape)
    keep = places >= 0
    total = np.bincount(places[keep], weights=g[keep], minlength=math.prod(in_shape))
    return total.reshape(in_shape).astype(g.dtype)



def _at_tap(g: Any, arg: Any, win: tuple) -> Any:
    """Windows (*g.shape, *kernel) of zeros holding each g at the tap `arg` (a flat index into
    the kernel) of its window: where a max-pooling gradient goes before col2im."""
    sizes = win[1]
    hit = np.arange(math.prod(sizes)) == np.asarray(arg)[..., None]
    return (np.asarray(g)[..., None] * hit).reshape(*np.shape(g), *sizes)


def _conv_taps(g: Any, w: Any, groups: int) -> Any:
    """A convolution's gradient for every window of its input, (N, C, *pos, *kernel): each
    window's taps get sum over the group's outputs o of g[n, o, pos] * w[o, c, taps]."""
    nsp = np.ndim(g) - 2
    o, cg = w.shape[:2]
    og = o // groups
    pos, taps = "xyz"[:nsp], "ijk"[:nsp]
    parts = [np.einsum(f"no{pos},oc{taps}->nc{pos}{taps}", g[:, k * og:(k + 1) * og],
                       w[k * og:(k + 1) * og]) for k in range(groups)]
    return np.concatenate(parts, axis=1)


def _conv_weight_grad(windows: Any, g: Any, groups: int) -> Any:
    """A convolution's weight gradient from its input's windows (N, C, *pos, *kernel): for
    each output o, sum over images and positions of g[n, o, pos] * windows[n, c, pos, taps]."""
    nsp = np.ndim(g) - 2
    o, c = g.shape[1], windows.shape[1]
    og, cg = o // groups, c // groups
    pos, taps = "xyz"[:nsp], "ijk"[:nsp]
    parts = [np.einsum(f"no{pos},nc{pos}{taps}->oc{taps}", g[:, k * og:(k + 1) * og],
                       windows[:, k * cg:(k + 1) * cg]) for k in range(groups)]
    return np.concatenate(parts, axis=0)

# ---- the LSTM rows: the last dim of the gates is four blocks (i, f, g, o) of H columns ----------
_GATES = "ifgo"


def _gate(act: Any, k: str) -> Any:
    """Gate k ('i', 'f', 'g' or 'o') of the last dim: its block of H columns."""
    n = act.shape[-1] // 4
    return act[..., _GATES.index(k) * n:(_GATES.index(k) + 1) * n]


def _is_gate(act: Any, k: str) -> Any:
    """True on the columns of gate k, False on the other three gates' (act's shape)."""
    n = act.shape[-1] // 4
    return np.broadcast_to(np.arange(act.shape[-1]) // n == _GATES.index(k), act.shape)


def _gates(i: Any, f: Any, g: Any, o: Any) -> Any:
    """The four gate blocks side by side along the last dim (a number is a block of it)."""
    return np.concatenate(np.broadcast_arrays(i, f, g, o), axis=-1)


# what a formula may call: plain math on numbers and numpy arrays alike
HELPERS: dict[str, Any] = {
    **{name: _np_or_math(*fns) for name, fns in _MATH.items()},
    "sigmoid": _sigmoid, "erf": _erf, "erfc": lambda x: 1 - _erf(x),
    "sign": lambda x: np.sign(x) if isinstance(x, np.ndarray) else float(np.sign(x)),
    "Phi": _Phi, "phi": _phi, "pi": math.pi,
    "where": np.where,
    "reshape": np.reshape, "permute": np.transpose,
    "expand": lambda g, shape: np.broadcast_to(g, shape),
    "total": lambda g, dim: np.sum(g, axis=dim, keepdims=True),
    "avg": lambda g, dim: np.mean(g, axis=dim, keepdims=True),
    "spread": _spread, "at_max": _at_max, "scatter": _scatter,
    "astype": lambda g, dtype: g.astype(dtype),
    "flip": lambda x, dim: np.flip(x, dim), "cumsum": lambda x, dim: np.cumsum(x, dim),
    "einsum": np.einsum, "gather": _gather, "scatter_add": _scatter_add,
    "windows": _windows, "crop": _crop, "col2im": _col2im, "at_tap": _at_tap,
    "conv_taps": _conv_taps, "conv_weight_grad": _conv_weight_grad,
    "gate": _gate, "is_gate": _is_gate, "gates": _gates,
}


@cache
def _parse(formula: str) -> ast.expr:
    return ast.parse(formula, mode="eval").body


def operands(formula: str) -> set[str]:
    """The names a formula reads that are not helpers: its operands."""
    return {n.id for n in ast.walk(_parse(formula)) if isinstance(n, ast.Name)} - set(HELPERS)


def evaluate(formula: str, env: Mapping[str, Any]) -> Any:
    """The formula's value with the operands in `env` (numbers or numpy arrays).

    Formulas are the op tables' own text, never user input.
    """
    code = compile(ast.Expression(_parse(formula)), "<formula>", "eval")
    return eval(code, {"__builtins__": {}, **HELPERS}, dict(env))  # noqa: S307


def show(formula: str, names: Mapping[str, str], *, outer: int = 0) -> str:
    """The formula with each operand replaced by `names[operand]` (a name or a number).

    `outer` is the precedence of what the formula is put into (3 for `x * formula`), so that
    it gets brackets when it needs them.
    """
    return _show(_parse(formula), names, outer, False)


def _prec(node: ast.expr) -> int:
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return _BIN[type(node.op)][1]
    if isinstance(node, ast.UnaryOp):
        return 4
    if isinstance(node, (ast.IfExp, ast.BoolOp)):
        return 0
    return 6  # names, numbers, calls, [comparisons]


def _show(node: ast.expr, names: Mapping[str, str], outer: int, right: bool) -> str:
    prec = _prec(node)
    if isinstance(node, ast.Name):
        text = names.get(node.id, node.id)
        negative = text.startswith("-")
        return f"({text})" if negative and (right or outer >= 4) else text
    if isinstance(node, ast.Constant):
        text = "..." if node.value is Ellipsis else repr(node.value)
        return f"({text})" if text.startswith("-") and (right or outer >= 4) else text
    if isinstance(node, ast.BinOp):
        sym, _ = _BIN[type(node.op)]
        if isinstance(node.op, ast.Pow):
            base = _show(node.left, names, 5, False)
            if isinstance(node.right, ast.Constant) and node.right.value in _SUPER:
                text = base + _SUPER[node.right.value]
            else:
                text = f"{base}**{_show(node.right, names, 6, True)}"
        else:
            left = _show(node.left, names, prec, False)
            right_text = _show(node.right, names, prec, True)  # a - (b - c) keeps brackets
            text = f"{left} {sym} {right_text}"
    elif isinstance(node, ast.UnaryOp):
        operand = _show(node.operand, names, 4, False)
        text = ("not " + operand) if isinstance(node.op, (ast.Invert, ast.Not)) \
            else "-" + operand
    elif isinstance(node, ast.Compare):
        parts = [_show(node.left, names, 2, False)]
        for op, right_node in zip(node.ops, node.comparators):
            parts += [_CMP.get(type(op), "?"), _show(right_node, names, 2, False)]
        return "[" + " ".join(parts) + "]"  # Iverson's bracket: 1 if it holds, else 0
    elif isinstance(node, ast.Call):
        fn = node.func.id if isinstance(node.func, ast.Name) else "?"
        if fn == "abs" and len(node.args) == 1 and not node.keywords:
            return f"|{_show(node.args[0], names, 0, False)}|"
        args = [_condition(a, names) if fn == "where" and k == 0 else _show(a, names, 0, False)
                for k, a in enumerate(node.args)]
        args += [f"{k.arg}={_show(k.value, names, 0, False)}" for k in node.keywords]
        return f"{fn}({', '.join(args)})"
    elif isinstance(node, ast.Attribute):  # W.T is Wᵀ
        base = _show(node.value, names, 6, False)
        return base + "\u1d40" if node.attr == "T" else f"{base}.{node.attr}"
    elif isinstance(node, ast.Subscript):  # g[..., :n]
        index = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return f"{_show(node.value, names, 6, False)}[{_items(index, names)}]"
    elif isinstance(node, ast.Slice):
        return ":".join("" if part is None else _show(part, names, 0, False)
                        for part in (node.lower, node.upper, node.step)[:2 + bool(node.step)])
    elif isinstance(node, (ast.Tuple, ast.List)):
        ends = "()" if isinstance(node, ast.Tuple) else "[]"
        return ends[0] + _items(node.elts, names) + "," * (len(node.elts) == 1) + ends[1]
    elif isinstance(node, ast.BoolOp):
        word = " and " if isinstance(node.op, ast.And) else " or "
        text = word.join(_condition(v, names, 1) for v in node.values)
    elif isinstance(node, ast.IfExp):
        text = (f"{_show(node.body, names, 1, False)} if {_condition(node.test, names, 1)} "
                f"else {_show(node.orelse, names, 1, False)}")
    else:
        text = ast.unparse(node)
    return f"({text})" if prec < outer or (right and prec == outer and prec < 5) else text


def _items(nodes: list[ast.expr], names: Mapping[str, str]) -> str:
    return ", ".join(_show(n, names, 0, False) for n in nodes)


def _condition(node: ast.expr, names: Mapping[str, str], outer: int = 0) -> str:
    """A comparison used as a condition (where's first argument, an if's test) reads plainly,
    `a > b`; only a comparison used as a number gets Iverson's bracket, `g * [a > 0]`."""
    text = _show(node, names, outer, False)
    return text[1:-1] if isinstance(node, ast.Compare) else text
