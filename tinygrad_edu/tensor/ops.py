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
helpers below (`exp`, `where`, `matmul`, ...), which work on both.

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
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..autograd.graph import Partial

__all__ = ["Op", "make_op", "PerInput", "OPS", "sum_to", "Scatter", "GradSum"]

_NP = (np.ndarray, np.generic)


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


# ---- helpers that work on numpy arrays and on Tensors, for the rules ----------------------------


def exp(x):
    return np.exp(x) if isinstance(x, _NP) else x.exp()


def log(x):
    return np.log(x) if isinstance(x, _NP) else x.log()


def sin(x):
    return np.sin(x) if isinstance(x, _NP) else x.sin()


def cos(x):
    return np.cos(x) if isinstance(x, _NP) else x.cos()


def sqrt(x):
    return np.sqrt(x) if isinstance(x, _NP) else x.sqrt()


def sinh(x):
    return np.sinh(x) if isinstance(x, _NP) else x.sinh()


def cosh(x):
    return np.cosh(x) if isinstance(x, _NP) else x.cosh()


def floor(x):
    """floor(x), a constant as far as gradients go."""
    return np.floor(x) if isinstance(x, _NP) else x.floor()


def trunc(x):
    """trunc(x), a constant as far as gradients go."""
    return np.trunc(x) if isinstance(x, _NP) else x.trunc()


def einsum(equation, *operands):
    if isinstance(operands[0], _NP):
        return np.einsum(equation, *operands, optimize=len(operands) > 2)
    from .linalg import einsum as tensor_einsum  # the Tensor op: rules can be differentiated

    return tensor_einsum(equation, *operands)


def erf(x):
    return _erf(x) if isinstance(x, _NP) else x.erf()


def sigmoid(x):
    return _sigmoid(x) if isinstance(x, _NP) else x.sigmoid()


def tanh(x):
    return np.tanh(x) if isinstance(x, _NP) else x.tanh()


def sign(x):
    """sign(x), a constant as far as gradients go (its derivative is 0 almost everywhere)."""
    return np.sign(x) if isinstance(x, _NP) else x.sign()


def zeros(g):
    """A zero gradient of g's shape, even where g is inf or nan (g * 0 would be nan there)."""
    return np.zeros_like(g) if isinstance(g, _NP) else g.where(np.False_, 0)


def _zero_rule(g, out, a):
    """The rule of a piecewise-constant op (floor, sign, ...): its derivative is 0."""
    return zeros(g)


def indicator(cond, like):
    """A boolean mask as 0 and 1 in like's dtype: numpy multiplies two float arrays several
    times faster than a float array by a boolean one."""
    return cond.astype(like.dtype) if isinstance(cond, _NP) else cond.to(like.dtype)


def where(cond, x, y):
    """`x` where `cond` holds, else `y`; x is an array or a Tensor, y may be a number."""
    return np.where(cond, x, y) if isinstance(x, _NP) else x.where(cond, y)


def matmul(a, b):
    return np.matmul(a, b) if isinstance(a, _NP) else a.matmul(b)


def mT(x):
    """Swap the last two dims (the transpose of a batch of matrices)."""
    return x.swapaxes(-1, -2) if isinstance(x, np.ndarray) else x.mT


def reshape(x, shape):
    return x.reshape(shape)


def permute(x, axes):
    return x.transpose(axes) if isinstance(x, np.ndarray) else x.permute(axes)


def expand(x, shape):
    return np.broadcast_to(x, shape) if isinstance(x, _NP) else x.expand(shape)


def rsum(x, axes, keepdim):
    if isinstance(x, _NP):
        return np.add.reduce(x, axis=axes, keepdims=keepdim)
    return x.sum(dim=axes, keepdim=keepdim)


def count(mask, axes, dtype):
    """How many entries of a boolean mask are set along `axes` (kept), in `dtype`."""
    if isinstance(mask, _NP):
        return np.sum(mask, axis=axes, keepdims=True, dtype=dtype)
    return mask.sum(dim=axes, keepdim=True, dtype=dtype)


def getitem(x, idx):
    return x[idx]


def index_add(g, idx, shape):
    """Zeros of `shape` with g added at `idx` (repeated indices add up): indexing's VJP.

    On arrays it is a `Scatter`, written out only when needed: backward adds it into the
    input's gradient in place, so a tensor sliced at T places costs T slices, not T arrays of
    its whole size. On Tensors (create_graph) it is the differentiable op.
    """
    return Scatter(g, idx, shape) if isinstance(g, _NP) else g._index_add(idx, shape)


def astype(x, dtype):
    return x.astype(dtype) if isinstance(x, _NP) else x.to(dtype)


def sum_to(g, shape: tuple[int, ...]):
    """Sum a gradient of a broadcast result back to an input's `shape`.

    Broadcasting copies an input along new leading dims and along its size-1 dims, so its
    gradient adds up over exactly those dims. Every op's gradient goes through here.
    """
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    if axes:
        g = rsum(g, axes, False)
    return g if g.shape == shape else g.reshape(shape)


# ---- sliding windows (conv.py): the two primitives conv, pooling and F.unfold are made of ----
# A window geometry `win` is (dims, sizes, steps, dilations, pads, fill): along each dim of
# `dims`, padded by pads[i] = (before, after) places of value `fill`, windows of sizes[i] taps,
# dilations[i] apart, starting every steps[i] places. A convolution's kernel, stride, padding
# and dilation, in one constant.


def unfold(x, win, in_shape):
    """Every window of x: each dim of win's dims becomes the windows' positions, and the taps
    become new last dims (torch's Tensor.unfold, for several dims at once, padding included)."""
    return _unfold(x, win, in_shape) if isinstance(x, _NP) else x._windows(win)


def unfold_backward(g, in_shape, win):
    """Each window of g added back where it was taken from: the VJP of `unfold` (col2im)."""
    return _unfold_backward(g, in_shape, win) if isinstance(g, _NP) else g._unfold_backward(
        in_shape, win)


def _zero_fill(win):
    """The same windows with zeros as padding: what a gradient is padded with."""
    return (*win[:5], 0.0)


def _first(dims, shape):
    """An index for the first shape[d] places along each d of dims (positions past those of a
    col2im input read windows that were never there)."""
    idx = [slice(None)] * (max(dims) + 1)
    for d in dims:
        idx[d] = slice(0, shape[d])
    return tuple(idx)


def _unfold(a, win, in_shape):
    """The windows as a strided view of `a` (padded first, if asked): position strides are
    step x the dim's, tap strides dilation x the dim's. No copy beyond the padding. Writable
    where `a` is, as torch's Tensor.unfold (overlapping windows share their elements)."""
    dims, sizes, steps, dilations, pads, fill = win
    if any(lo or hi for lo, hi in pads):
        widths = [(0, 0)] * a.ndim
        for d, lo_hi in zip(dims, pads):
            widths[d] = lo_hi
        a = _pad(a, widths, fill)
    shape, strides = list(a.shape), list(a.strides)
    for d, k, s, dl in zip(dims, sizes, steps, dilations):
        span = dl * (k - 1) + 1 if k else 0
        shape[d] = (a.shape[d] - span) // s + 1
        strides[d] = a.strides[d] * s
    shape += sizes
    strides += [a.strides[d] * dl for d, dl in zip(dims, dilations)]
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)


def _pad(a, widths, fill):
    """a padded with `fill`, in a's own memory order (np.pad would make it row-major: a
    channels-last array would then be gathered channel by channel)."""
    shape = [n + lo + hi for n, (lo, hi) in zip(a.shape, widths)]
    order = sorted(range(a.ndim), key=lambda i: -a.strides[i])
    out = np.empty([shape[i] for i in order], dtype=a.dtype).transpose(np.argsort(order))
    inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(a.shape, widths))
    for d, (lo, hi) in enumerate(widths):  # fill only the border, then copy a in
        if lo:
            out[(slice(None),) * d + (slice(0, lo),)] = fill
        if hi:
            out[(slice(None),) * d + (slice(shape[d] - hi, None),)] = fill
    out[inner] = a
    return out


def _unfold_backward(g, in_shape, win):
    """Zeros of in_shape (padded), plus, for each tap offset, that tap of every window added
    at its place, one strided add per tap (9 for a 3x3 kernel); then the padding cut off."""
    dims, sizes, steps, dilations, pads, _ = win
    shape = list(in_shape)
    for d, (lo, hi) in zip(dims, pads):
        shape[d] += lo + hi
    # zeros laid out in g's memory order (a channels-last g gives a channels-last out), so
    # that each tap's add walks both arrays the same way
    order = sorted(range(len(shape)), key=lambda i: -g.strides[i])
    out = np.zeros([shape[i] for i in order], dtype=g.dtype).transpose(np.argsort(order))
    positions = [g.shape[d] for d in dims]
    if 0 not in positions:
        for taps in itertools.product(*map(range, sizes)):
            idx = [slice(None)] * len(shape)
            for d, o, s, dl, n in zip(dims, taps, steps, dilations, positions):
                idx[d] = slice(o * dl, o * dl + s * (n - 1) + 1, s)
            out[tuple(idx)] += g[(Ellipsis, *taps)]
    if any(lo or hi for lo, hi in pads):
        crop = [slice(None)] * len(shape)
        for d, (lo, _) in zip(dims, pads):
            crop[d] = slice(lo, lo + in_shape[d])
        out = out[tuple(crop)]
    return out


# ---- numpy forwards that are more than one call -------------------------------------------------


def _sigmoid(x):
    e = np.exp(-np.abs(x))  # never overflows: e in (0, 1]
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_erf_scalar = np.frompyfunc(math.erf, 1, 1)
_ERF_C = 2.0 / math.sqrt(math.pi)


def _erf(x):
    """erf elementwise: exact (math.erf per element) in float64; in float32 and float16 a
    Chebyshev-fitted formula for erfc (Numerical Recipes' erfcc, absolute error below 1e-7,
    finer than float32 resolves), which is ten times faster."""
    x = np.asarray(x)
    if x.dtype == np.float64:
        return np.asarray(_erf_scalar(x), dtype=np.float64)
    z = np.abs(x.astype(np.float64))
    t = 1 / (1 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    far = 1 - t * np.exp(poly - z * z)
    z2 = z * z  # near 0 the Taylor series, so that erf(0) = 0 and erf(x) ~ 2x/sqrt(pi)
    near = _ERF_C * z * (1 - z2 * (1 / 3 - z2 * (1 / 10 - z2 * (1 / 42 - z2 * (
        1 / 216 - z2 * (1 / 1320 - z2 / 9360))))))
    return (np.sign(x) * np.where(z < 0.5, near, far)).astype(x.dtype)


def _is_basic(idx: tuple) -> bool:
    return not any(isinstance(i, np.ndarray) for i in idx)


def _index_add(g, idx, shape):
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(idx):  # slices and ints pick each element at most once
        out[idx] = g
    else:
        np.add.at(out, idx, g)
    return out


class Scatter(Partial, np.lib.mixins.NDArrayOperatorsMixin):
    """`g` at `idx` of zeros of `shape`, not yet written out: indexing's VJP on arrays.

    The backward driver (graph.send) adds it into the input's pending gradient in place: only
    idx's elements are touched, in a buffer that only the pass holds (`GradSum`). Anywhere
    else it acts as the array it stands for (numpy functions and operators write it out).
    """

    __slots__ = ("g", "idx", "shape")

    def __init__(self, g: np.ndarray, idx: tuple, shape: tuple[int, ...]) -> None:
        self.g, self.idx, self.shape = g, idx, tuple(shape)

    @property
    def dtype(self) -> np.dtype:
        return self.g.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def astype(self, dtype: Any) -> Scatter:
        return Scatter(self.g.astype(dtype), self.idx, self.shape)

    def into(self, buf: np.ndarray) -> None:
        """buf[idx] += g, in place (repeated indices add up)."""
        if _is_basic(self.idx):
            buf[self.idx] += self.g
        else:
            np.add.at(buf, self.idx, self.g)

    def dense(self) -> np.ndarray:
        return _index_add(self.g, self.idx, self.shape)

    def add(self, other: Any) -> Any:
        return GradSum(self.dense()).add(other)

    def add_onto(self, dense: Any) -> Any:
        if type(dense) is not np.ndarray or dense.shape != self.shape or \
                dense.dtype != self.g.dtype:
            return dense + self.dense()
        buf = dense.copy()  # `dense` may be another node's gradient too: never change it
        self.into(buf)
        return GradSum(buf)

    def resolve(self, node: Any) -> np.ndarray:
        out = node._fresh = self.dense()  # a new array: `.grad` may keep it as it is
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.dense()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        inputs = tuple(i.dense() if isinstance(i, Scatter) else i for i in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __repr__(self) -> str:
        return f"Scatter(shape={self.shape}, values of shape {self.g.shape})"


class GradSum(Partial):
    """A gradient being added up in `buf`, an array only the backward pass holds (made by
    `Scatter`), so later shares are added into it in place. It lives only in a node's pending
    gradient, never as a rule's result."""

    __slots__ = ("buf",)

    def __init__(self, buf: np.ndarray) -> None:
        self.buf = buf

    def add(self, other: Any) -> Any:
        buf = self.buf
        if isinstance(other, Scatter) and other.shape == buf.shape and \
                other.dtype == buf.dtype:
            other.into(buf)
            return self
        if isinstance(other, _NP) and other.shape == buf.shape and other.dtype == buf.dtype:
            np.add(buf, other, out=buf)
            return self
        return buf + other  # anything else as plain arithmetic (a new array)

    def resolve(self, node: Any) -> np.ndarray:
        node._fresh = self.buf  # nothing else holds it: `.grad` may keep it as it is
        return self.buf


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
    s = x - np.maximum.reduce(x, axis=dim, keepdims=True)  # the largest logit becomes 0:
    return s - np.log(np.add.reduce(np.exp(s), axis=dim, keepdims=True))  # exp cannot overflow


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
        return np.matmul(b, g.swapaxes(-1, -2)).swapaxes(-1, -2)
    return matmul(g, mT(b))  # dA = dC B^T


def _mm_db(g, out, a, b):
    if a.ndim == 1:
        if b.ndim == 1:
            return g * a
        return reshape(a, (a.shape[0], 1)) * reshape(g, (*g.shape[:-1], 1, g.shape[-1]))
    if b.ndim == 1:  # (..., m, n) @ (n,) -> (..., m)
        return reshape(matmul(mT(a), reshape(g, (*g.shape, 1))), (*a.shape[:-2], a.shape[-1]))
    if _transposed(b):  # b = W^T, as in x @ W.T: compute (dC^T A)^T, so that dW is row-major
        return np.matmul(g.swapaxes(-1, -2), a).swapaxes(-1, -2)
    return matmul(mT(a), g)  # dB = A^T dC


def _transposed(x) -> bool:
    """Is x an array laid out column-major (a transposed matrix)? Then so should its grad be."""
    return isinstance(x, np.ndarray) and x.ndim == 2 and x.flags.f_contiguous and not (
        x.flags.c_contiguous
    )


_GELU_C, _GELU_K = math.sqrt(2 / math.pi), 0.044715  # GELU's tanh form (GPT-2's constants)


def _gelu_tanh(a):
    """0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))), one buffer written in place."""
    u = np.multiply(a, a, out=np.empty_like(a))  # (an array even for a 0-d a)
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
    a2 = a * a
    t = tanh(_GELU_C * (a + _GELU_K * a2 * a))
    return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * (_GELU_C * (1 + 3 * _GELU_K * a2)))


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


# ---- fused rows for a CNN: batch normalization and max pooling -----------------------------------
# Composed of primitives, batch norm is ~9 nodes and max pooling a where and a sum over every
# window, each a full pass forward and backward: these rows do each in one node, with the
# closed-form gradient (what PyTorch's kernels compute too).


def _over(shape, axes) -> int:
    """How many elements a reduction over `axes` of `shape` adds up."""
    return math.prod(shape[d] for d in axes)


def csum(x, axes):
    """The sum over `axes`, kept as size-1 dims. On a float array laid out with the summed
    dims together (a conv output: channels last) it is one matrix-vector product with ones,
    which BLAS does many times faster than numpy's reduction over outer dims."""
    if not isinstance(x, _NP):
        return x.sum(dim=axes, keepdim=True)
    if x.dtype in (np.float32, np.float64) and x.size >= 4096:
        kept = [d for d in range(x.ndim) if d not in axes]
        shape = tuple(1 if d in axes else n for d, n in enumerate(x.shape))
        for summed_first in (True, False):
            v = x.transpose(*axes, *kept) if summed_first else x.transpose(*kept, *axes)
            if v.flags.c_contiguous:
                m = _over(x.shape, axes)
                v = v.reshape((m, -1) if summed_first else (-1, m))
                ones = np.ones(m, dtype=x.dtype)
                return (ones @ v if summed_first else v @ ones).reshape(shape)
    return np.add.reduce(x, axis=axes, keepdims=True)


def batch_stats(x: np.ndarray, axes: tuple[int, ...], eps: float) -> tuple[np.ndarray, ...]:
    """The batch's mean, 1 / sqrt(biased variance + eps) and variance over `axes`, as size-1
    dims kept: what the batch_norm row normalizes with, computed once (float32 for float16)."""
    acc = np.dtype(np.float32 if x.dtype == np.float16 else x.dtype)
    n = acc.type(_over(x.shape, axes))
    mean = csum(x.astype(acc, copy=False), axes) / n
    d = np.subtract(x, mean, dtype=acc)
    np.multiply(d, d, out=d)
    var = csum(d, axes) / n
    return mean, 1 / np.sqrt(var + acc.type(eps)), var


def _bn_stats(x, axes, eps, mean, inv_std):
    """The statistics a batch_norm rule uses: on arrays the forward's own (its constants); on
    Tensors (create_graph) computed again from x, so that a second derivative sees how the
    mean and the variance move with x."""
    if isinstance(x, _NP):
        return mean, inv_std
    n = _over(x.shape, axes)
    m = x.sum(dim=axes, keepdim=True) / n
    d = x - m
    return m, 1 / sqrt((d * d).sum(dim=axes, keepdim=True) / n + eps)


def _batch_norm(x, weight, bias, axes, eps, mean, inv_std):
    """(x - mean) * inv_std * weight + bias, in three passes (all but x are per channel)."""
    out = np.subtract(x, mean)
    out *= inv_std * weight
    out += bias
    return out.astype(x.dtype, copy=False)


def _bn_dx(g, out, x, weight, bias, axes, eps, mean, inv_std):
    # with x_hat = (x - mean) inv_std, dy_hat = g weight and N elements per channel:
    # dx = inv_std / N (N dy_hat - sum(dy_hat) - x_hat sum(dy_hat x_hat))
    if isinstance(g, _NP):
        return _bn_dx_arrays(g, x, weight, axes, mean, inv_std)
    mean, inv_std = _bn_stats(x, axes, eps, mean, inv_std)
    n = _over(x.shape, axes)
    x_hat = (x - mean) * inv_std
    return weight * inv_std * (g - csum(g, axes) / n - x_hat * (csum(g * x_hat, axes) / n))


def _bn_dx_arrays(g, x, weight, axes, mean, inv_std):
    """The same on arrays, as dx = a g + b (x - mean) + c per channel: four passes over x."""
    n = _over(x.shape, axes)
    d = np.subtract(x, mean)
    a = weight * inv_std
    gd = csum(g * d, axes)
    _BN_SUM[0] = (weakref.ref(g), weakref.ref(x), gd)  # the weight's rule needs it too
    b = gd * (-a * inv_std * inv_std / n)  # -w inv_std^3 sum(g (x - mean)) / N
    c = csum(g, axes) * (-a / n)
    d *= b
    d += a * g
    d += c
    return d


# sum(g (x - mean)) of the last batch_norm input rule on arrays, with (weak references to) the
# g and x it was computed from: the weight's rule, run next on the same arrays, reuses it
# instead of two more passes over x
_BN_SUM: list[Any] = [None]


def _bn_dweight(g, out, x, weight, bias, axes, eps, mean, inv_std):
    mean, inv_std = _bn_stats(x, axes, eps, mean, inv_std)
    last = _BN_SUM[0]
    if isinstance(g, _NP) and last is not None and last[0]() is g and last[1]() is x:
        _BN_SUM[0] = None
        return last[2] * inv_std
    return csum(g * (x - mean), axes) * inv_std  # sum(g x_hat)


def _bn_dbias(g, out, x, weight, bias, axes, eps, mean, inv_std):
    return csum(g, axes)


def _standardize(x, axes, eps, mean, inv_std):
    """(x - mean) * inv_std over `axes`: LayerNorm's and GroupNorm's core, before any affine."""
    out = np.subtract(x, mean)
    out *= inv_std
    return out.astype(x.dtype, copy=False)


def _standardize_dx(g, out, x, axes, eps, mean, inv_std):
    # x_hat = (x - mean) inv_std over N elements: dx = inv_std (g - avg(g) - x_hat avg(g x_hat))
    if isinstance(g, _NP):  # x_hat is the output
        n = _over(x.shape, axes)
        d = out * (csum(g * out, axes) / n)
        np.subtract(g, d, out=d)
        d -= csum(g, axes) / n
        d *= inv_std
        return d
    return _bn_dx(g, out, x, 1, None, axes, eps, mean, inv_std)  # batch norm's, weight 1


def _bn_eval_dx(g, out, x, weight, bias, axes, eps, mean, inv_std):
    return g * (weight * inv_std)  # the running statistics are constants


def _bn_eval_dweight(g, out, x, weight, bias, axes, eps, mean, inv_std):
    return csum(g * (x - mean), axes) * inv_std


# Max pooling: the windows are those of the unfold row (padding with -inf). `pool_argmax`
# finds, once, which tap of each window holds its maximum; the row's forward takes the
# maxima, its rule sends each window's gradient to that tap alone (as PyTorch's indices).


def _taps(sizes) -> list[tuple[int, ...]]:
    return list(itertools.product(*map(range, sizes)))


def _inside(win, shape, tap) -> np.ndarray | None:
    """Which window positions have this tap inside the unpadded input (None: all of them);
    shaped to broadcast over the windows' positions."""
    dims, sizes, steps, dilations, pads, _ = win
    if not any(lo or hi for lo, hi in pads):
        return None
    pos = [(shape[d] + lo + hi - dl * (k - 1) - 1) // s + 1
           for d, k, s, dl, (lo, hi) in zip(dims, sizes, steps, dilations, pads)]
    mask = np.ones((1,) * len(dims), dtype=bool)
    for i, (d, s, dl, (lo, _), t, m) in enumerate(zip(dims, steps, dilations, pads, tap, pos)):
        place = np.arange(m) * s + t * dl - lo
        ok = (place >= 0) & (place < shape[d])
        mask = mask & ok.reshape((1,) * i + (m,) + (1,) * (len(dims) - 1 - i))
    return mask


def pool_argmax(x: np.ndarray, win: tuple) -> np.ndarray:
    """The tap (flat index into the kernel) of each window's maximum, PyTorch's choice: the
    first maximum inside the input (padding never wins, even over -inf), or the last nan."""
    view = _unfold(x, win, x.shape)
    taps = _taps(win[1])
    vs = [view[(Ellipsis, *tap)] for tap in taps]
    best = vs[0].copy(order="K")
    for v in vs[1:]:
        np.maximum(best, v, out=best)
    arg = np.zeros(best.shape, dtype=np.int8 if len(taps) < 128 else np.int32)
    seen = None
    for t, (tap, v) in enumerate(zip(taps, vs)):
        hit = v == best
        inside = _inside(win, x.shape, tap)
        if inside is not None:
            hit &= inside
        if seen is None:
            seen = hit
            continue
        hit &= ~seen
        seen |= hit
        arg += hit.view(np.int8).astype(arg.dtype, copy=False) * arg.dtype.type(t)
    if np.isnan(best).any():  # nan wins, the last one in the window (PyTorch's CPU kernel)
        for t, v in enumerate(vs):
            np.putmask(arg, np.isnan(v), t)
    arg.flags.writeable = False  # a constant of the graph: saved without a copy
    return arg


def _pool_max(a, win, arg):
    """The maximum of each window (nan if it holds one)."""
    view = _unfold(a, win, a.shape)
    taps = _taps(win[1])
    best = view[(Ellipsis, *taps[0])].copy(order="K")  # in a's memory order
    for tap in taps[1:]:
        np.maximum(best, view[(Ellipsis, *tap)], out=best)
    return best


def _pool_places(arg, win):
    """For each window, the index of its arg-max tap in the padded input, one array per dim."""
    dims, sizes, steps, dilations, _, _ = win
    offsets = np.unravel_index(arg, sizes)
    idx = list(np.indices(arg.shape, sparse=True))
    for i, (d, s, dl) in enumerate(zip(dims, steps, dilations)):
        idx[d] = idx[d] * s + offsets[i] * dl
    return tuple(idx)


def _pool_scatter(g, like, win, arg):
    """Zeros of like's shape (in its memory order) with each window's g added at its arg-max
    tap: one pass per tap. Disjoint windows write each place once (no adds)."""
    dims, sizes, steps, dilations, pads, _ = win
    shape = list(like.shape)
    for d, (lo, hi) in zip(dims, pads):
        shape[d] += lo + hi
    order = sorted(range(len(shape)), key=lambda i: -like.strides[i])
    disjoint = all(s >= dl * (k - 1) + 1 for k, s, dl in zip(sizes, steps, dilations))
    # windows side by side with no gap (2x2 every 2 over an even size): every place is written
    tiled = disjoint and all(s == k and (dl == 1 or k == 1) and shape[d] == s * m for d, k, s, dl, m
                             in zip(dims, sizes, steps, dilations, arg.shape[-len(dims):]))
    out = (np.empty if tiled else np.zeros)([shape[i] for i in order], dtype=g.dtype)
    out = out.transpose(np.argsort(order))
    view = _unfold(out, (dims, sizes, steps, dilations, ((0, 0),) * len(dims), 0.0), out.shape)
    finite = bool(np.isfinite(g).all())  # else g * 0 would put nan where g does not go
    for t, tap in enumerate(_taps(sizes)):
        dst = view[(Ellipsis, *tap)]
        hit = arg == t
        if disjoint and finite:  # each place written once
            np.multiply(g, hit, out=dst)
        elif disjoint:
            dst[...] = np.where(hit, g, 0)
        elif finite:
            dst += g * hit
        else:
            dst += np.where(hit, g, 0)
    if any(lo or hi for lo, hi in pads):
        crop = [slice(None)] * len(shape)
        for d, (lo, _) in zip(dims, pads):
            crop[d] = slice(lo, lo + like.shape[d])
        out = out[tuple(crop)]
    return out


def pool_scatter(g, a, win, arg):
    """max_pool's VJP: g at each window's arg-max place of a, zeros elsewhere. On Tensors an
    index_add and a crop (rows whose rules are a gather and a pad), so it differentiates."""
    if isinstance(g, _NP):
        return _pool_scatter(g, a, win, arg)
    dims, _, _, _, pads, _ = win
    shape = list(a.shape)
    for d, (lo, hi) in zip(dims, pads):
        shape[d] += lo + hi
    full = g._index_add(_pool_places(arg, win), tuple(shape))
    crop = [slice(None)] * len(shape)
    for d, (lo, _) in zip(dims, pads):
        crop[d] = slice(lo, lo + a.shape[d])
    return full[tuple(crop)]



# ---- convolution: im2col and one matrix product per group, in one row --------------------------
# conv(x, w) = rows(x) @ W^T per group: rows(x) is x's im2col, a row per image and window
# position holding its window tap by tap, channels innermost; W the weight laid out the same.
# On arrays the rows are never made whole (for a 3x3 conv of 64 channels they are 9 times the
# input: 75 MB at batch 32, page-faulted in at every call): they are copied a block at a time
# (a few images, or lines of one) into a buffer that stays in the CPU's cache, and each block's
# product is written into its part of the output. The weight's rule copies the same blocks
# again and adds up their products; the input's rule is, for stride 1, what it is: the
# convolution of g, padded, with the flipped kernel. On Tensors (create_graph) the same
# formulas run whole, as a graph of ordinary ops.

_BLOCK_BYTES = 4 << 20  # one block of im2col rows: fits the CPU's cache, yet a product big for BLAS


def conv_rows(x, win, groups):
    """x's im2col as (groups, N * positions, taps * C/groups), whole (a graph on Tensors)."""
    nsp = len(win[0])
    n, c = x.shape[:2]
    cols = unfold(x, win, x.shape)  # (N, C, *pos, *kernel), a view
    m, taps = math.prod(cols.shape[2:2 + nsp]), math.prod(win[1])
    rows = reshape(permute(cols, (0, *range(2, 2 + 2 * nsp), 1)), (n * m, taps, groups,
                                                                     c // groups))
    return reshape(permute(rows, (2, 0, 1, 3)), (groups, n * m, taps * (c // groups)))


def _row_blocks(x, win, groups):
    """x's im2col block by block: (the block's index into the (N, *pos) grid, its rows as
    (groups, rows, taps * C/groups)), each copied into the same buffer of ~_BLOCK_BYTES."""
    nsp = len(win[0])
    if x.shape[1] > 1 and x.strides[1] != x.itemsize:  # channels last first, so that each
        x = np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)  # tap is one run
    cols = _unfold(x, win, x.shape)  # (N, C, *pos, *kernel), a view
    n, c, pos = x.shape[0], x.shape[1], cols.shape[2:2 + nsp]
    cg, taps = c // groups, math.prod(win[1])
    # (G, N, *pos, *kernel, C/G): a block of this, copied, is laid out as its rows
    cols = cols.reshape(n, groups, cg, *cols.shape[2:])
    cols = cols.transpose(1, 0, *range(3, 3 + 2 * nsp), 2)
    per_image, per_line = math.prod(pos), math.prod(pos[1:])
    fit = max(1, _BLOCK_BYTES // (taps * c * x.itemsize))  # rows in a block
    if per_image <= fit:  # whole images
        step = fit // per_image
        blocks = [(slice(i, i + step), slice(None)) for i in range(0, n, step)]
        largest = min(step, n) * per_image
    else:  # lines (along the first spatial dim) of one image
        step = max(1, fit // per_line)
        blocks = [(slice(i, i + 1), slice(j, j + step))
                  for i in range(n) for j in range(0, pos[0], step)]
        largest = min(step, pos[0]) * per_line
    buf = np.empty(groups * largest * taps * cg, dtype=x.dtype)
    for index in blocks:
        part = cols[(slice(None), *index)]
        block = buf[:part.size].reshape(part.shape)
        np.copyto(block, part)
        yield index, block.reshape(groups, -1, taps * cg)


def _conv_arrays(x, wmat, win, groups):
    """An array x convolved with wmat, (G, taps * C/G, O/G): (N, O, *pos), laid out channels
    last, (N, *pos, O), in memory."""
    nsp = len(win[0])
    o = groups * wmat.shape[-1]
    y = np.empty((x.shape[0], *_windowed_size(x.shape, win), o), dtype=np.result_type(x, wmat))
    for index, rows in _row_blocks(x, win, groups):
        np.matmul(rows, wmat, out=y[index].reshape(-1, groups, o // groups).transpose(1, 0, 2))
    return y.transpose(0, nsp + 1, *range(1, nsp + 1))


def _conv_weight(w, groups):
    """(O, C/G, *kernel) -> (G, O/G, taps * C/G), laid out as conv_rows' columns."""
    o, cg = w.shape[:2]
    taps = math.prod(w.shape[2:])
    return reshape(permute(reshape(w, (groups, o // groups, cg, taps)), (0, 1, 3, 2)),
                   (groups, o // groups, taps * cg))


def _conv_image(y, n, spatial):
    """(G, N * positions, O/G) -> (N, O, *spatial): a view, channels last in memory."""
    nsp = len(spatial)
    y = reshape(permute(y, (1, 0, 2)), (n, *spatial, y.shape[0] * y.shape[2]))
    return permute(y, (0, nsp + 1, *range(1, nsp + 1)))


def _conv_grad_rows(g, groups):
    """(N, O, *pos) -> (G, N * positions, O/G): the output gradient as conv_rows' rows."""
    nsp = g.ndim - 2
    n, o = g.shape[:2]
    rows = reshape(permute(g, (0, *range(2, 2 + nsp), 1)), (-1, groups, o // groups))
    return permute(rows, (1, 0, 2))


def _conv(x, w, win, groups):
    """x's im2col @ W^T, per group."""
    if isinstance(x, _NP):
        return _conv_arrays(x, mT(_conv_weight(w, groups)), win, groups)
    return _conv_image(matmul(conv_rows(x, win, groups), mT(_conv_weight(w, groups))),
                       x.shape[0], tuple(_windowed_size(x.shape, win)))


def _windowed_size(shape, win):
    dims, sizes, steps, dilations, pads, _ = win
    return [(shape[d] + lo + hi - dl * (k - 1) - 1) // s + 1
            for d, k, s, dl, (lo, hi) in zip(dims, sizes, steps, dilations, pads)]


def _conv_dx(g, out, x, w, win, groups):
    dims, sizes, steps, dilations, pads, _ = win
    spans = [dl * (k - 1) + 1 for k, dl in zip(sizes, dilations)]
    flipped = tuple((sp - 1 - lo, sp - 1 - hi) for sp, (lo, hi) in zip(spans, pads))
    if isinstance(g, _NP) and all(s == 1 for s in steps) and min(min(flipped)) >= 0:
        # dx = g (padded by span - 1 - pad) correlated with the flipped kernel, in and out
        # channels swapped: a convolution of g
        nsp = len(dims)
        o, cg = w.shape[:2]
        taps = math.prod(sizes)
        wf = w[(slice(None), slice(None), *(slice(None, None, -1),) * nsp)]
        wf = wf.reshape(groups, o // groups, cg, taps).transpose(0, 3, 1, 2)
        return _conv_arrays(g, wf.reshape(groups, taps * (o // groups), cg),
                            (dims, sizes, steps, dilations, flipped, 0.0), groups)
    # any stride: each window's gradient, g @ W, added back where it was taken from (col2im)
    nsp = len(dims)
    n, c = x.shape[:2]
    d = matmul(_conv_grad_rows(g, groups), _conv_weight(w, groups))  # (G, N*L, taps*C/G)
    d = reshape(d, (groups, -1, math.prod(sizes), c // groups))
    d = reshape(permute(d, (1, 2, 0, 3)), (n, *g.shape[2:], *sizes, c))
    d = permute(d, (0, 2 * nsp + 1, *range(1, 2 * nsp + 1)))  # (N, C, *pos, *kernel)
    return unfold_backward(d, x.shape, win)


def _conv_dw(g, out, x, w, win, groups):
    o, cg = w.shape[:2]
    taps = math.prod(w.shape[2:])
    if isinstance(x, _NP):  # the sum over blocks of (the block's g)^T @ (its rows of x)
        g_last = g.transpose(0, *range(2, g.ndim), 1)  # (N, *pos, O), a view
        dw = part = None
        for index, rows in _row_blocks(x, win, groups):
            gb = g_last[index].reshape(-1, groups, o // groups).transpose(1, 2, 0)
            if dw is None:
                dw = np.matmul(gb, rows)
                part = np.empty_like(dw)
            else:
                dw += np.matmul(gb, rows, out=part)
    else:  # on Tensors: x's im2col again, whole, as a graph
        dw = matmul(mT(_conv_grad_rows(g, groups)), conv_rows(x, win, groups))
    return reshape(permute(reshape(dw, (groups, o // groups, taps, cg)), (0, 1, 3, 2)),
                   w.shape)


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
    relu = make_op("relu", lambda a: np.maximum(a, 0),
        lambda g, out, a: g * indicator(out > 0, g),  # 1 where a > 0, else 0 (also at 0)
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
    matmul = make_op("matmul", np.matmul, _mm_da, _mm_db,
        formulas=("g @ b.T", "a.T @ g"))
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

    # fused rows (see above): batch normalization with the batch's statistics (training) or
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
    conv = make_op("conv", _conv, _conv_dx, _conv_dw,     # im2col @ W^T, one row (see above)
        formulas=("col2im(conv_taps(g, w, groups), x.shape, win)",
                  "conv_weight_grad(windows(x, win), g, groups)"))
    max_pool = make_op("max_pool", _pool_max,
        lambda g, out, a, win, arg: pool_scatter(g, a, win, arg),
        formulas=("col2im(at_tap(g, arg, win), a.shape, win)",))

OPS = _Table()


# ---- sequence-model ops (nn/rnn.py): one LSTM step as three fused rows -----------------------
# gates: the (..., 4H) pre-activations (i, f, g, o). `lstm_gates` activates them all at once
# (sigmoid for i, f, o and tanh for g), then `lstm_cell` and `lstm_hidden` read the activated
# gates A = (A_i, A_f, A_g, A_o), so no rule recomputes a sigmoid. Composed of primitives a
# step is 17 graph nodes, as these rows 6: that is what brings the LSTM near PyTorch's fused
# cell. The rules run on arrays only (no second derivatives through them).

_LSTM_COLUMNS: dict[tuple[int, Any], tuple[np.ndarray, ...]] = {}


def _lstm_columns(n: int, dtype: Any) -> tuple[np.ndarray, ...]:
    """Per column of (i, f, g, o): the scale inside tanh and the affine map after it, since
    sigmoid(x) = 0.5 + 0.5 tanh(x / 2); and (alpha, gamma) with act' = alpha - (act - gamma)^2
    (sigmoid' = s (1 - s) = 1/4 - (s - 1/2)^2, tanh' = 1 - t^2)."""
    key = (n, np.dtype(dtype))
    if key not in _LSTM_COLUMNS:
        half = np.full(4 * n, 0.5, dtype)
        half[2 * n:3 * n] = 1.0
        shift = np.full(4 * n, 0.5, dtype)
        shift[2 * n:3 * n] = 0.0
        alpha = np.full(4 * n, 0.25, dtype)
        alpha[2 * n:3 * n] = 1.0
        _LSTM_COLUMNS[key] = (half, shift, alpha)
    return _LSTM_COLUMNS[key]


def _lstm_activate(gates):
    half, shift, _ = _lstm_columns(gates.shape[-1] // 4, gates.dtype)
    act = np.tanh(gates * half)
    act *= half
    act += shift
    return act


def _lstm_activate_rule(g, out, gates):
    half, shift, alpha = _lstm_columns(gates.shape[-1] // 4, gates.dtype)
    d = out - shift
    return g * (alpha - d * d)


def _lstm_cell_rule(g, out, act, c):
    n = c.shape[-1]
    d = np.zeros(g.shape[:-1] + (4 * n,), g.dtype)   # sum_to (Tensor._vjps) undoes broadcasting
    d[..., :n] = g * act[..., 2 * n:3 * n]            # dc'/dA_i = A_g
    d[..., n:2 * n] = g * c                           # dc'/dA_f = c
    d[..., 2 * n:3 * n] = g * act[..., :n]            # dc'/dA_g = A_i
    return d                                          # A_o does not touch c'


def _lstm_hidden_rule(g, out, act, c):
    n = c.shape[-1]
    d = np.zeros(g.shape[:-1] + (4 * n,), g.dtype)
    d[..., 3 * n:] = g * np.tanh(c)                   # dh/dA_o = tanh(c')
    return d


def _lstm_hidden_c_rule(g, out, act, c):
    t = np.tanh(c)
    return g * act[..., 3 * (act.shape[-1] // 4):] * (1 - t * t)  # dh/dc' = A_o tanh'(c')


def _lstm_cell(act, c):
    n = c.shape[-1]
    return act[..., n:2 * n] * c + act[..., :n] * act[..., 2 * n:3 * n]


# A = (sigmoid(i), sigmoid(f), tanh(g), sigmoid(o))
_Table.lstm_gates = make_op("lstm_gates", _lstm_activate, _lstm_activate_rule,
    higher_order=False,  # tanh' = 1 - t^2 on the g columns, sigmoid' = s (1 - s) on i, f, o
    formulas=("g * where(is_gate(out, 'g'), 1 - out**2, out * (1 - out))",))
# c' = A_f c + A_i A_g
_Table.lstm_cell = make_op("lstm_cell", _lstm_cell,
    _lstm_cell_rule,
    lambda g, out, act, c: g * act[..., c.shape[-1]:2 * c.shape[-1]],  # dc'/dc = A_f
    higher_order=False,
    formulas=("gates(g * gate(act, 'g'), g * c, g * gate(act, 'i'), 0)", "g * gate(act, 'f')"))
# h' = A_o tanh(c')
_Table.lstm_hidden = make_op("lstm_hidden",
    lambda act, c: act[..., 3 * c.shape[-1]:] * np.tanh(c),
    _lstm_hidden_rule, _lstm_hidden_c_rule, higher_order=False,
    formulas=("gates(0, 0, 0, g * tanh(c))", "g * gate(act, 'o') * (1 - tanh(c)**2)"))
