"""The vocabulary the op table's rules are written in: small functions that work on numpy
arrays and on Tensors alike.

A rule written with these (and operators) runs on arrays in an ordinary backward pass, and on
Tensors under `backward(create_graph=True)`, where its arithmetic is recorded and can be
differentiated again. Also here: the two sliding-window primitives (unfold, and its VJP
col2im) that conv, pooling and F.unfold are made of, and the numpy forwards of erf and
sigmoid, which are more than one call.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .. import parallel
from .partials import Scatter

__all__ = [
    "exp", "log", "sin", "cos", "sqrt", "sinh", "cosh", "floor", "trunc", "einsum", "erf",
    "sigmoid", "tanh", "sign", "zeros", "indicator", "where", "matmul", "mT", "reshape",
    "permute", "expand", "rsum", "csum", "row_max", "count", "getitem", "index_add", "astype",
    "sum_to", "unfold", "unfold_backward",
]

_NP = (np.ndarray, np.generic)


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
    """a @ b; on arrays with the library's threads (parallel.py)."""
    return parallel.matmul(a, b) if isinstance(a, _NP) else a.matmul(b)


def mT(x):
    """Swap the last two dims (the transpose of a batch of matrices)."""
    return x.swapaxes(-1, -2) if isinstance(x, np.ndarray) else x.mT


def reshape(x, shape):
    return x.reshape(shape)


def permute(x, axes):
    return x.transpose(axes) if isinstance(x, np.ndarray) else x.permute(axes)


def expand(x, shape):
    return np.broadcast_to(x, shape) if isinstance(x, _NP) else x.expand(shape)


# csum leaves to numpy a sum of fewer elements, or of fewer rows (see there)
_CSUM_MIN, _CSUM_ROWS = 4096, 256


def rsum(x, axes, keepdim):
    if isinstance(x, _NP):
        return np.add.reduce(x, axis=axes, keepdims=keepdim)
    return x.sum(dim=axes, keepdim=keepdim)


def csum(x, axes):
    """The sum over `axes` (a tuple of dims), kept as size-1 dims. On a float array laid out
    with the summed dims together (a conv output channels last, the rows of a softmax) it is
    one matrix-vector product with ones. numpy runs one loop per row of that layout (about
    15 ns each: a short last dim is summed 7x slower than by BLAS, for rows of 16); with few
    rows it is as quick as the product's set-up, and keeps the sum. BLAS threads the product,
    or (after a kernel's pieces) the library's threads do (parallel.py)."""
    if not isinstance(x, _NP):
        return x.sum(dim=axes, keepdim=True)
    if x.dtype not in (np.float32, np.float64) or x.size < _CSUM_MIN:
        return np.add.reduce(x, axis=axes, keepdims=True)
    kept = [d for d in range(x.ndim) if d not in axes]
    shape = tuple(1 if d in axes else n for d, n in enumerate(x.shape))
    m = math.prod(x.shape[d] for d in axes)
    first = x.transpose(*axes, *kept)
    if first.flags.c_contiguous and m >= _CSUM_ROWS:  # (summed, kept): v^T @ ones
        return parallel.matmul(first.reshape(m, -1).T, np.ones(m, x.dtype)).reshape(shape)
    last = x.transpose(*kept, *axes)
    if last.flags.c_contiguous and x.size // m >= _CSUM_ROWS:  # (kept, summed): w @ ones
        return parallel.matmul(last.reshape(-1, m), np.ones(m, x.dtype)).reshape(shape)
    return np.add.reduce(x, axis=axes, keepdims=True)


def row_max(x):
    """The max over the last dim, kept as a size-1 dim (nan if the row has one), as numpy's.
    numpy reduces a short last dim row by row, about 50 ns a row; moved first (one copy), it
    is n - 1 vector maxima: 7x faster for rows of 16, as a softmax over 16 keys has."""
    n = x.shape[-1] if x.ndim else 0
    if 1 < n <= 32 and x.size >= 4096:
        return np.maximum.reduce(np.moveaxis(x, -1, 0).copy(), axis=0)[..., None]
    return np.maximum.reduce(x, axis=-1, keepdims=True)


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


