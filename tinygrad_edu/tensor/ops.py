"""The primitive ops of Tensor: a table of forwards and derivative rules, side by side.

Each row is an `Op`: a name, a numpy forward, and one vector-Jacobian product (VJP) rule per
input. A rule is called as

    rule(g, out, *inputs, *consts)  ->  the gradient for that input

with `g` the gradient of the op's output, `out` the output, and the op's constants (an axis, a
shape) last. The backward driver (autograd/graph.py, through `Tensor._vjps`) calls the rule of
each input that needs a gradient, and no other: the input batch of a network never gets its
`g @ W` computed.

A rule is written once and runs on two kinds of numbers. On an ordinary backward pass `g`, `out`
and the inputs are numpy arrays: fast. With `backward(create_graph=True)` they are Tensors, so
the rule's arithmetic is itself recorded and the gradient can be differentiated again (Hessian-
vector products, gradient penalties). That is why the rules use only operators and the little
helpers of rule_math.py (`exp`, `where`, `matmul`, ...), which work on both. The fused
rows (batch norm, max pooling, convolution, the LSTM cell) have their forwards and rules in
fused.py; their rows stand here with the others.

Broadcasting is never handled here: a rule may return a gradient of the broadcast output's
shape, and `Tensor._vjps` sums it back to the input's shape with `sum_to`, the one place that
does.

Ops made of these (mean, softmax, var, logsumexp, clamp, pad, max over a dim, ...)
live in the family modules (reductions.py, elementwise.py, shape.py, ...) and need no
derivative code of their own.

A new op is one `make_op` call and one `apply` (tensor.py) call:

    SQUARE = make_op("square", lambda a: a * a,          # forward on arrays
                     lambda g, out, a: 2 * g * a)        # rule for input 0
    y = apply(SQUARE, (x,))                              # a graph node like any other

`make_op` also records which values each rule reads (`Op.reads`), so that backward can refuse
a value an in-place op changed since the forward, and only such a value.
"""

from __future__ import annotations

import dis
import inspect
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .. import parallel
from ..memory import empty_like
from .fused import (
    _attention,
    _attention_dk,
    _attention_dq,
    _batch_norm,
    _bn_dbias,
    _bn_dweight,
    _bn_dx,
    _bn_eval_dweight,
    _bn_eval_dx,
    _conv,
    _conv_dw,
    _conv_dx,
    _lstm_activate,
    _lstm_activate_rule,
    _lstm_cell,
    _lstm_cell_rule,
    _lstm_hidden_c_rule,
    _lstm_hidden_rule,
    _pool_max,
    _standardize,
    _standardize_dx,
    pool_scatter,
)
from .partials import GradSum, Scatter, _index_add
from .rule_math import (
    _ERF_C,
    _NP,
    _erf,
    _first,
    _sigmoid,
    _unfold,
    _unfold_backward,
    _zero_fill,
    _zero_rule,
    astype,
    cos,
    cosh,
    count,
    csum,
    einsum,
    exp,
    expand,
    floor,
    getitem,
    index_add,
    indicator,
    log,
    matmul,
    mT,
    permute,
    reshape,
    row_max,
    rsum,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    sum_to,
    tanh,
    trunc,
    unfold,
    unfold_backward,
    where,
    zeros,
)

__all__ = ["Op", "make_op", "PerInput", "OPS", "sum_to", "Scatter", "GradSum"]


class Op(NamedTuple):
    """One row of the table. Build it with `make_op`, which also fills in `reads`."""

    name: str
    forward: Callable[..., Any]  # (*input arrays, *consts) -> output array
    vjps: Iterable[Callable[..., Any]]  # rule i: (g, out, *inputs, *consts) -> grad of input i
    view: bool = False  # may the output share an input's memory? (only PyTorch's view ops)
    # which of (out, input 0, input 1, ...) rule i reads, for the in-place check; None = all
    reads: tuple[frozenset[int] | None, ...] | None = None
    higher_order: bool = True  # do the rules also run on Tensors (create_graph=True)?
    formulas: tuple[str, ...] = ()  # rule i as text over the rule's names (the viz shows it)


class PerInput:
    """The rules of an op with any number of inputs (cat): `rule_for(i)` is input i's rule.

    `reads` says which of (out, inputs...) every such rule reads (None: all of them).
    """

    def __init__(
        self, rule_for: Callable[[int], Callable[..., Any]], reads: frozenset[int] | None = None
    ) -> None:
        self.rule_for, self.reads = rule_for, reads

    def __iter__(self) -> Iterator[Callable[..., Any]]:
        return map(self.rule_for, itertools.count())


def _reads(rule: Callable[..., Any]) -> frozenset[int] | None:
    """Which of (out, inputs...) a rule's code loads: 0 for out, i + 1 for input i.

    Found from the rule's bytecode, so the in-place check (a saved value changed since the
    forward?) asks only about values the rule really uses, as PyTorch's saved tensors do.
    None (read everything) when that cannot be told: not a plain function, or *args.
    """
    code = getattr(rule, "__code__", None)
    if code is None or code.co_flags & inspect.CO_VARARGS:
        return None
    params = code.co_varnames[: code.co_argcount]
    used: set[str] = set(code.co_cellvars)  # parameters that inner functions capture
    for ins in dis.get_instructions(rule):
        if ins.opname.startswith("LOAD_FAST"):
            val = ins.argval
            used.update(val if isinstance(val, tuple) else (val,))
    return frozenset(i - 1 for i, name in enumerate(params) if i >= 1 and name in used)


def make_op(
    name: str,
    forward: Callable[..., Any],
    *vjps: Callable[..., Any],
    view: bool = False,
    higher_order: bool = True,
    formulas: tuple[str, ...] = (),
) -> Op:
    """An Op with one VJP rule per input, in argument order, and each rule's formula as text
    over the rule's own names (checked against the rule in tests/viz/test_formula.py).

        SQUARE = make_op("square", lambda a: a * a,
                         lambda g, out, a: 2 * g * a,        # d(a^2)/da = 2a
                         formulas=("2 * g * a",))
    """
    reads = tuple(_reads(r) for r in vjps)
    return Op(name, forward, vjps, view, reads, higher_order, formulas)


def _diagonal(a, idx, in_shape):
    """The diagonal of a's last two dims that idx = (..., rows, cols) picks, as a strided view
    of a (writable where a is: torch.diagonal is a view; a[idx] would copy)."""
    _, rows, cols = idx
    offset = int(cols[0] - rows[0]) if len(rows) else max(in_shape[-2:]) + 1
    d = np.diagonal(a, offset, -2, -1)
    d.flags.writeable = a.flags.writeable
    return d


def _sum(a, axes, keepdim, shape):
    if a.dtype == np.float16:  # accumulate in float32, as PyTorch: rounding would pile up
        return np.add.reduce(a, axes, dtype=np.float32, keepdims=keepdim).astype(np.float16)
    return np.add.reduce(a, axes, keepdims=keepdim)


def _mod(a, b):
    if a.dtype.kind in "iub" and not np.all(b):
        raise ZeroDivisionError("remainder (%): integer division by zero (as in PyTorch)")
    return np.mod(a, b)


def _log_softmax(x, dim):
    if x.size == 0:
        return x.copy()
    moved = dim is not None and dim != x.ndim - 1
    last = x.reshape(-1) if dim is None else np.moveaxis(x, dim, -1) if moved else x  # a view
    s = last - row_max(last)  # the largest logit becomes 0: exp cannot overflow
    total = csum(np.exp(s), (s.ndim - 1,))
    s -= np.log(total, out=total)
    return s.reshape(x.shape) if dim is None else np.moveaxis(s, -1, dim) if moved else s


def _cat(*args):
    *xs, dim, _ = args
    return np.concatenate(xs, axis=dim)


def _cat_rule(i: int) -> Callable[..., Any]:
    def rule(g, out, *args):  # args: the inputs, then (dim, bounds)
        dim, bounds = args[-2], args[-1]
        return getitem(g, (slice(None),) * dim + (slice(bounds[i], bounds[i + 1]),))

    return rule


def _mm_da(g, out, a, b):
    if b.ndim == 1:
        if a.ndim == 1:  # dot product: out = sum(a * b)
            return g * b
        return reshape(g, (*g.shape, 1)) * b  # (..., m) x (n,): the outer product
    if a.ndim == 1:  # (n,) @ (..., n, p) -> (..., p)
        return reshape(matmul(b, reshape(g, (*g.shape, 1))), (*b.shape[:-1],))
    if _transposed(a):  # a = W^T: give W's gradient in W's own (row-major) layout
        return matmul(b, g.swapaxes(-1, -2)).swapaxes(-1, -2)
    return matmul(g, mT(b))  # dA = dC B^T


def _mm_db(g, out, a, b):
    if a.ndim == 1:
        if b.ndim == 1:
            return g * a
        return reshape(a, (a.shape[0], 1)) * reshape(g, (*g.shape[:-1], 1, g.shape[-1]))
    if b.ndim == 1:  # (..., m, n) @ (n,) -> (..., m)
        return reshape(matmul(mT(a), reshape(g, (*g.shape, 1))), (*a.shape[:-2], a.shape[-1]))
    if _transposed(b):  # b = W^T, as in x @ W.T: compute (dC^T A)^T, so that dW is row-major
        return matmul(g.swapaxes(-1, -2), a).swapaxes(-1, -2)
    return matmul(mT(a), g)  # dB = A^T dC


def _linear(x, w, b):
    """x @ w^T + b, (..., in) x (out, in) -> (..., out), the bias added in place."""
    y = matmul(x, w.T)
    y += b
    return y


def _linear_dw(g, out, x, w, b):
    """g^T @ x: for a stack of inputs (..., in), all its rows in one product, not a product
    per matrix summed afterwards (3x faster for a transformer's (32, 16, 256), and no
    (32, out, in) temporary)."""
    if x.ndim > 2:
        g, x = reshape(g, (-1, g.shape[-1])), reshape(x, (-1, x.shape[-1]))
    return matmul(mT(g), x)


def _transposed(x) -> bool:
    """Is x an array laid out column-major (a transposed matrix)? Then so should its grad be."""
    return isinstance(x, np.ndarray) and x.ndim == 2 and x.flags.f_contiguous and not (
        x.flags.c_contiguous
    )


_GELU_C, _GELU_K = math.sqrt(2 / math.pi), 0.044715  # GELU's tanh form (GPT-2's constants)


def _relu(a):
    """max(a, 0); a big float array in pieces at once (parallel.py)."""
    if not parallel.splits(a.size) or a.dtype.kind != "f":
        return np.maximum(a, 0)
    out = empty_like(a)
    parallel.rows(lambda o, a: np.maximum(a, 0, out=o), out, a)
    return out


def _relu_da(g, out, a):
    if isinstance(g, np.ndarray) and parallel.splits(g.size) and g.shape == out.shape:
        d = empty_like(g)
        parallel.rows(lambda d, g, out: np.multiply(g, out > 0, out=d), d, g, out)
        return d
    return g * indicator(out > 0, g)  # 1 where a > 0, else 0 (also at 0)


def _gelu_tanh(a):
    """0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))), one buffer written in place."""
    u = np.multiply(a, a, out=empty_like(a))  # (an array even for a 0-d a)
    u *= _GELU_K
    u += 1
    u *= a  # a + k a^3
    u *= _GELU_C
    np.tanh(u, out=u)
    u += 1
    u *= a
    u *= 0.5
    return u


def _gelu_tanh_da(g, out, a):
    """d gelu/da = (1 + t) / 2 + a (1 - t^2) c (1 + 3 k a^2) / 2, with t = tanh(c (a + k a^3))."""
    if isinstance(g, _NP) and isinstance(a, _NP):
        return _gelu_tanh_da_arrays(g, a)
    a2 = a * a
    t = tanh(_GELU_C * (a + _GELU_K * a2 * a))
    return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * (_GELU_C * (1 + 3 * _GELU_K * a2)))


def _gelu_tanh_da_arrays(g, a):
    """The same on arrays, factored as (1 + t) (1/2 + a c (1 + 3 k a^2) (1 - t) / 2) and made
    in two buffers: the plain formula's eight temporaries of a's size were most of a cold
    transformer step's page faults (1,000 of 1,600 a step)."""
    x = np.multiply(a, a, out=empty_like(a, dtype=np.result_type(g, a)))
    t = np.multiply(x, _GELU_K, out=empty_like(x))
    t += 1
    t *= a
    t *= _GELU_C
    np.tanh(t, out=t)  # t
    x *= 3 * _GELU_K
    x += 1
    x *= a
    x *= 0.5 * _GELU_C  # a c (1 + 3 k a^2) / 2
    np.subtract(1, t, out=t)  # 1 - t
    x *= t
    x += 0.5
    np.subtract(2, t, out=t)  # 1 + t
    x *= t
    x *= g
    return x


def _pow_da(g, out, a, n):
    if n == 0:
        return g * 0
    return g * (n * a ** (n - 1))  # d(a^n)/da = n a^(n-1)


def _pow_da_tensor(g, out, a, b):
    # d(a^b)/da = b a^(b-1), which is 0 * inf = nan at a = b = 0: 0 there (a^0 is constant),
    # as PyTorch. Only there: elsewhere the rule's own derivative in b must stay a^(b-1)
    return where((a == 0) & (b == 0), zeros(g), g * (b * a ** (b - 1)))


def _pow_db(g, out, a, b):
    # d(a^b)/db = a^b ln a; PyTorch's convention: 0 where a == 0 and b >= 0
    return where((a == 0) & (b >= 0), g * 0, g * (out * log(a)))


def _einsum_rule(i: int) -> Callable[..., Any]:
    """The VJP of einsum for operand i: g contracted with the other operands, back onto
    operand i's subscripts (a repeated subscript, "ii", is a diagonal: delta factors put the
    gradient there; a subscript found nowhere else was summed: a ones factor broadcasts it)."""

    def rule(g, out, *args):
        *operands, subs, out_sub = args
        mine = subs[i]
        fresh = iter(sorted(set(_LETTERS) - set("".join(subs)) - set(out_sub)))
        target, factors, seen = [], [], {}
        for pos, c in enumerate(mine):
            if c in seen:  # a diagonal: a new letter tied to the first by a delta
                n = operands[i].shape[pos]
                c2 = next(fresh)
                factors.append((c + c2, np.eye(n, dtype=operands[i].dtype)))
                target.append(c2)
            else:
                seen[c] = pos
                target.append(c)
        others = [(subs[j], operands[j]) for j in range(len(operands)) if j != i]
        present = set(out_sub) | {c for sub, _ in others for c in sub}
        for c, pos in seen.items():
            if c not in present:
                factors.append((c, np.ones(operands[i].shape[pos], dtype=operands[i].dtype)))
        terms = [(out_sub, g), *others, *factors]
        eq = ",".join(t for t, _ in terms) + "->" + "".join(target)
        return einsum(eq, *[v for _, v in terms])

    return rule


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _keep_axes(g, axes, keepdim, shape):
    """g from a reduction over `axes`, reshaped to have those axes back as size 1."""
    if keepdim:
        return g
    kept = tuple(1 if (axes is None or i in axes) else n for i, n in enumerate(shape))
    return reshape(g, kept)


def _extreme_rule(g, out, a, axes, keepdim):
    # amax's and amin's: the gradient is split evenly between tied extremes, as PyTorch
    shape = a.shape
    m = a == _keep_axes(out, axes, keepdim, shape)
    return where(m, _keep_axes(g, axes, keepdim, shape), 0) / count(m, axes, g.dtype)


# ---- the table ----------------------------------------------------------------------------------



class _Table:
    """The primitive ops, by name (`OPS.mul`, ...)."""

    # elementwise, two inputs (broadcasting; the driver sums each gradient to its input's shape)
    add = make_op("add", np.add,
        lambda g, out, a, b: g,                       # d(a+b)/da = 1
        lambda g, out, a, b: g,                       # d(a+b)/db = 1
        formulas=("g", "g"))
    sub = make_op("sub", np.subtract,
        lambda g, out, a, b: g,                       # d(a-b)/da = 1
        lambda g, out, a, b: -g,                      # d(a-b)/db = -1
        formulas=("g", "-g"))
    mul = make_op("mul", np.multiply,
        lambda g, out, a, b: g * b,                   # d(ab)/da = b
        lambda g, out, a, b: g * a,                   # d(ab)/db = a
        formulas=("g * b", "g * a"))
    div = make_op("div", np.true_divide,
        lambda g, out, a, b: g / b,                   # d(a/b)/da = 1/b
        lambda g, out, a, b: -g * a / (b * b),        # d(a/b)/db = -a/b^2
        formulas=("g / b", "-g * a / b**2"))
    pow = make_op("pow", np.power,
        _pow_da_tensor,                               # d(a^b)/da = b a^(b-1)
        _pow_db,                                      # d(a^b)/db = a^b ln a
        formulas=("g * b * a**(b - 1)", "g * out * log(a)"))
    mod = make_op("remainder", _mod,                  # a - floor(a/b) b, the sign of b
        lambda g, out, a, b: g,                       # d/da = 1
        lambda g, out, a, b: -g * floor(a / b),       # d/db = -floor(a/b)
        formulas=("g", "-g * floor(a / b)"))
    maximum = make_op("maximum", np.maximum,          # a tie splits the gradient, as PyTorch
        lambda g, out, a, b: where(a > b, g, where(a == b, g * 0.5, 0)),
        lambda g, out, a, b: where(b > a, g, where(a == b, g * 0.5, 0)),
        formulas=("g * ((a > b) + 0.5 * (a == b))", "g * ((b > a) + 0.5 * (a == b))"))
    minimum = make_op("minimum", np.minimum,          # not -max(-a, -b): exact on unsigned ints
        lambda g, out, a, b: where(a < b, g, where(a == b, g * 0.5, 0)),
        lambda g, out, a, b: where(b < a, g, where(a == b, g * 0.5, 0)),
        formulas=("g * ((a < b) + 0.5 * (a == b))", "g * ((b < a) + 0.5 * (a == b))"))
    atan2 = make_op("atan2", np.arctan2,              # the angle of the point (b, a)
        lambda g, out, a, b: g * b / (a * a + b * b),
        lambda g, out, a, b: -g * a / (a * a + b * b),
        formulas=("g * b / (a**2 + b**2)", "-g * a / (a**2 + b**2)"))
    hypot = make_op("hypot", np.hypot,                # sqrt(a^2 + b^2) without overflow
        lambda g, out, a, b: g * a / out,
        lambda g, out, a, b: g * b / out,
        formulas=("g * a / out", "g * b / out"))
    fmod = make_op("fmod", np.fmod,                   # a - trunc(a/b) b: the sign of a
        lambda g, out, a, b: g,
        lambda g, out, a, b: -g * trunc(a / b),
        formulas=("g", "-g * trunc(a / b)"))
    where = make_op("where", lambda a, b, cond: np.where(cond, a, b),
        lambda g, out, a, b, cond: where(cond, g, 0),
        lambda g, out, a, b, cond: where(~cond, g, 0),
        formulas=("where(cond, g, 0)", "where(~cond, g, 0)"))

    # elementwise, one input
    pow_const = make_op("pow", np.power, _pow_da,     # a ** n for a number n
        formulas=("g * n * a**(n - 1)",))
    neg = make_op("neg", np.negative,
        lambda g, out, a: -g,
        formulas=("-g",))
    # piecewise constant: derivative 0 (where defined), recorded so the graph is not cut
    floor = make_op("floor", np.floor, _zero_rule, formulas=("0 * g",))
    ceil = make_op("ceil", np.ceil, _zero_rule, formulas=("0 * g",))
    round = make_op("round", np.round, _zero_rule, formulas=("0 * g",))
    trunc = make_op("trunc", np.trunc, _zero_rule, formulas=("0 * g",))
    sign = make_op("sign", np.sign, _zero_rule, formulas=("0 * g",))
    exp = make_op("exp", np.exp,
        lambda g, out, a: g * out,                    # d(e^a)/da = e^a
        formulas=("g * out",))
    log = make_op("log", np.log,
        lambda g, out, a: g / a,                      # d(ln a)/da = 1/a
        formulas=("g / a",))
    sqrt = make_op("sqrt", np.sqrt,
        lambda g, out, a: g / (2 * out),              # d(sqrt a)/da = 1/(2 sqrt a)
        formulas=("g / (2 * out)",))
    abs = make_op("abs", np.abs,
        lambda g, out, a: g * sign(a),                # sign(a), 0 at the kink as PyTorch
        formulas=("g * sign(a)",))
    tanh = make_op("tanh", np.tanh,
        lambda g, out, a: g * (1 - out * out),        # 1 - tanh^2
        formulas=("g * (1 - out**2)",))
    sigmoid = make_op("sigmoid", _sigmoid,
        lambda g, out, a: g * (out * (1 - out)),      # s (1 - s)
        formulas=("g * out * (1 - out)",))
    relu = make_op("relu", _relu, _relu_da,
        formulas=("g * (out > 0)",))
    gelu_tanh = make_op("gelu_tanh", _gelu_tanh, _gelu_tanh_da,  # GPT-2's GELU, one node
        formulas=("g * (0.5 * (1 + tanh(sqrt(2 / pi) * (a + 0.044715 * a**3))) + 0.5 * a"
                  " * (1 - tanh(sqrt(2 / pi) * (a + 0.044715 * a**3))**2) * sqrt(2 / pi)"
                  " * (1 + 3 * 0.044715 * a**2))",))
    softplus = make_op("softplus", lambda a: np.logaddexp(0, a),
        lambda g, out, a: g * sigmoid(a),             # d ln(1 + e^a)/da = sigmoid(a)
        formulas=("g * sigmoid(a)",))
    erf = make_op("erf", _erf,
        lambda g, out, a: g * (_ERF_C * exp(-(a * a))),  # 2/sqrt(pi) e^(-a^2)
        formulas=("g * 2 / sqrt(pi) * exp(-a**2)",))
    sin = make_op("sin", np.sin,
        lambda g, out, a: g * cos(a),
        formulas=("g * cos(a)",))
    cos = make_op("cos", np.cos,
        lambda g, out, a: -g * sin(a),
        formulas=("-g * sin(a)",))
    tan = make_op("tan", np.tan,
        lambda g, out, a: g * (1 + out * out),  # 1 + tan^2
        formulas=("g * (1 + out**2)",))
    asin = make_op("asin", np.arcsin,
        lambda g, out, a: g / sqrt(1 - a * a),  # 1/sqrt(1 - a^2)
        formulas=("g / sqrt(1 - a**2)",))
    acos = make_op("acos", np.arccos,
        lambda g, out, a: -g / sqrt(1 - a * a),  # -1/sqrt(1 - a^2)
        formulas=("-g / sqrt(1 - a**2)",))
    atan = make_op("atan", np.arctan,
        lambda g, out, a: g / (1 + a * a),  # 1/(1 + a^2)
        formulas=("g / (1 + a**2)",))
    sinh = make_op("sinh", np.sinh,
        lambda g, out, a: g * cosh(a),
        formulas=("g * cosh(a)",))
    cosh = make_op("cosh", np.cosh,
        lambda g, out, a: g * sinh(a),
        formulas=("g * sinh(a)",))
    asinh = make_op("asinh", np.arcsinh,
        lambda g, out, a: g / sqrt(a * a + 1),  # 1/sqrt(a^2 + 1)
        formulas=("g / sqrt(a**2 + 1)",))
    acosh = make_op("acosh", np.arccosh,
        lambda g, out, a: g / sqrt(a * a - 1),  # 1/sqrt(a^2 - 1)
        formulas=("g / sqrt(a**2 - 1)",))
    atanh = make_op("atanh", np.arctanh,
        lambda g, out, a: g / (1 - a * a),  # 1/(1 - a^2)
        formulas=("g / (1 - a**2)",))
    log1p = make_op("log1p", np.log1p,                # exact near 0, where log(1 + a) is not
        lambda g, out, a: g / (1 + a),
        formulas=("g / (1 + a)",))
    expm1 = make_op("expm1", np.expm1,                # exact near 0, where exp(a) - 1 is not
        lambda g, out, a: g * (out + 1),
        formulas=("g * (out + 1)",))
    astype = make_op("astype", lambda a, dtype, in_dtype: a.astype(dtype),
        lambda g, out, a, dtype, in_dtype: astype(g, in_dtype),
        formulas=("astype(g, in_dtype)",))

    # reductions (axes: a sorted tuple of dims, or None for all)
    sum = make_op("sum", _sum,
        lambda g, out, a, axes, keepdim, shape: expand(_keep_axes(g, axes, keepdim, shape), shape),
        formulas=("spread(g, axes, keepdim, shape)",))
    amax = make_op("amax", lambda a, axes, keepdim: np.maximum.reduce(a, axes, keepdims=keepdim),
        _extreme_rule,
        formulas=("spread(g, axes, keepdim, a.shape) * at_max(a, out, axes, keepdim)",))
    amin = make_op("amin", lambda a, axes, keepdim: np.minimum.reduce(a, axes, keepdims=keepdim),
        _extreme_rule,
        formulas=("spread(g, axes, keepdim, a.shape) * at_max(a, out, axes, keepdim)",))
    log_softmax = make_op("log_softmax", _log_softmax,  # fused for stability and speed
        lambda g, out, a, dim: g - exp(out) * rsum(g, dim, True),
        formulas=("g - exp(out) * total(g, dim)",))

    # shape and indexing (the gradient is moved back to where each element came from)
    reshape = make_op("reshape", lambda a, shape, in_shape: a.reshape(shape),
        lambda g, out, a, shape, in_shape: reshape(g, in_shape), view=True,
        formulas=("reshape(g, in_shape)",))
    permute = make_op("permute", lambda a, axes, inverse: a.transpose(axes),
        lambda g, out, a, axes, inverse: permute(g, inverse), view=True,
        formulas=("permute(g, inverse)",))
    expand = make_op("expand", lambda a, shape: np.broadcast_to(a, shape),
        lambda g, out, a, shape: g, view=True,        # sum_to (in Tensor._vjps) does the work
        formulas=("g",))
    getitem = make_op("getitem", lambda a, idx, in_shape: a[idx],
        lambda g, out, a, idx, in_shape: index_add(g, idx, in_shape), view=True,
        formulas=("scatter(g, idx, in_shape)",))
    diagonal = make_op("diagonal", _diagonal,        # a view of the last two dims' diagonal
        lambda g, out, a, idx, in_shape: index_add(g, idx, in_shape), view=True,
        formulas=("scatter(g, idx, in_shape)",))
    index_add = make_op("index_add", _index_add,
        lambda g, out, a, idx, shape: getitem(g, idx),
        formulas=("g[idx]",))
    cat = Op("cat", _cat, PerInput(_cat_rule, reads=frozenset()))

    # linear algebra
    matmul = make_op("matmul", parallel.matmul, _mm_da, _mm_db,
        formulas=("g @ b.T", "a.T @ g"))
    linear = make_op("linear", _linear,              # x @ w.T + b in one node (torch's addmm)
        lambda g, out, x, w, b: matmul(g, w),
        _linear_dw,                                   # a stack's rows in one product
        lambda g, out, x, w, b: g,                     # summed over the rows by sum_to
        formulas=("g @ w", "g.T @ x", "g"))
    einsum = Op("einsum",                             # any number of operands; consts: the
        lambda *args: np.einsum(                      # subscripts of each, and of the output
            ",".join(args[-2]) + "->" + args[-1], *args[:-2], optimize=len(args) > 4),
        PerInput(_einsum_rule))

    # sliding windows (tensor/window.py builds conv, pooling, unfold and fold from these two)
    unfold = make_op("unfold", _unfold,              # every window, as a strided view (im2col)
        lambda g, out, a, win, in_shape: unfold_backward(g, in_shape, win),  # taps added back
        view=True, formulas=("col2im(g, in_shape, win)",))
    unfold_backward = make_op("unfold_backward", _unfold_backward,  # col2im: taps added back
        lambda g, out, a, in_shape, win:              # each window read back out of g
            getitem(unfold(g, _zero_fill(win), in_shape), _first(win[0], a.shape)),
        formulas=("crop(windows(g, win, 0), a.shape)",))

    # fused rows (fused.py): batch normalization with the batch's statistics (training) or
    # the running ones (eval; weight and bias are (1, C, 1, ...), the statistics constants),
    # and max pooling over the unfold row's windows with the arg-max taps given
    batch_norm = make_op("batch_norm", _batch_norm, _bn_dx, _bn_dweight, _bn_dbias,
        formulas=("weight * inv_std * (g - avg(g, axes) - (x - mean) * inv_std"
                  " * avg(g * (x - mean) * inv_std, axes))",
                  "total(g * (x - mean) * inv_std, axes)", "total(g, axes)"))
    batch_norm_eval = make_op("batch_norm_eval", _batch_norm,
        _bn_eval_dx, _bn_eval_dweight, _bn_dbias,
        formulas=("g * weight * inv_std", "total(g * (x - mean) * inv_std, axes)",
                  "total(g, axes)"))
    standardize = make_op("standardize", _standardize, _standardize_dx,  # layer/group norm
        formulas=("inv_std * (g - avg(g, axes) - (x - mean) * inv_std"
                  " * avg(g * (x - mean) * inv_std, axes))",))
    conv = make_op("conv", _conv, _conv_dx, _conv_dw,     # im2col @ W^T, one row (fused.py)
        formulas=("col2im(conv_taps(g, w, groups), x.shape, win)",
                  "conv_weight_grad(windows(x, win), g, groups)"))
    max_pool = make_op("max_pool", _pool_max,
        lambda g, out, a, win, arg: pool_scatter(g, a, win, arg),
        formulas=("col2im(at_tap(g, arg, win), a.shape, win)",))
    # attention's weights P = softmax(q k^T scale + mask) over the keys, one row (fused.py);
    # with dS = P (g - total(g P, -1)) scale, the gradient of the scores, its rules are the
    # product's: dS @ k and dS^T @ q
    attention = make_op("attention", _attention, _attention_dq, _attention_dk,
        formulas=("(out * (g - total(g * out, -1)) * scale) @ k",
                  "(out * (g - total(g * out, -1)) * scale).mT @ q"))
    # one LSTM step as three rows (fused.py): A = (sigmoid(i), sigmoid(f), tanh(g), sigmoid(o))
    lstm_gates = make_op("lstm_gates", _lstm_activate, _lstm_activate_rule,
        higher_order=False,  # tanh' = 1 - t^2 on the g columns, sigmoid' = s (1 - s) on i, f, o
        formulas=("g * where(is_gate(out, 'g'), 1 - out**2, out * (1 - out))",))
    # c' = A_f c + A_i A_g
    lstm_cell = make_op("lstm_cell", _lstm_cell,
        _lstm_cell_rule,
        lambda g, out, act, c: g * act[..., c.shape[-1]:2 * c.shape[-1]],  # dc'/dc = A_f
        higher_order=False,
        formulas=("gates(g * gate(act, 'g'), g * c, g * gate(act, 'i'), 0)", "g * gate(act, 'f')"))
    # h' = A_o tanh(c')
    lstm_hidden = make_op("lstm_hidden",
        lambda act, c: act[..., 3 * c.shape[-1]:] * np.tanh(c),
        _lstm_hidden_rule, _lstm_hidden_c_rule, higher_order=False,
        formulas=("gates(0, 0, 0, g * tanh(c))", "g * gate(act, 'o') * (1 - tanh(c)**2)"))

OPS = _Table()
