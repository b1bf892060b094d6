"""Reductions over dims: sum, mean, var, std, max/min, logsumexp, softmax, prod, norm, ...

Each function takes the Tensor first and is bound as a Tensor method in methods.py; `dim=`
(or numpy's `axis=`) and `keepdim=` as PyTorch. `sum`, `amax`, `amin` and `log_softmax` are
primitives (rows of ops.py); the rest are compositions of primitives: no derivative code here,
the chain rule does it all. A few show a standard trick:

- `softmax = exp(log_softmax)`, and `logsumexp` subtracts the (detached) max first, so logits
  of 1e4 do not overflow;
- `max(dim)` gathers the arg-max, so the gradient goes to that one entry (and the dtype is
  kept), while `amax` shares it among ties (both as PyTorch);
- integer sums, products and running sums are int64, and float16 means and variances are
  computed in float32, as PyTorch (no wrap-around, no count of 70,000 that is inf);
- `prod` is a tree of multiplications and `cumsum` a parallel prefix sum of adds and slices,
  so zeros and second derivatives need no special case.

`sort` and `topk` (values with the indices they came from) live here too.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, NamedTuple

import numpy as np

from .dims import _norm_axes, _norm_dim
from .dtypes import float16, float32, int64
from .elementwise import logaddexp, minimum
from .indexing import gather, where
from .ops import OPS
from .shape import _slice, cat
from .tensor import Tensor, ValuesIndices, _floating, _new, apply

__all__ = [
    "sum", "amax", "amin", "mean", "var", "std", "max", "min", "logsumexp", "log_softmax",
    "softmax", "prod", "norm", "argmax", "argmin", "cumsum", "topk", "sort", "cumprod", "cummax",
    "cummin", "logcumsumexp", "argsort", "kthvalue", "median", "std_mean", "var_mean", "aminmax",
    "MinMax",
]


class MinMax(NamedTuple):
    """What `aminmax` returns, as PyTorch: `lo, hi = t.aminmax()`."""

    min: Tensor
    max: Tensor


def sum(
    x, dim: Any = None, keepdim: bool = False, *, axis: Any = None, dtype: Any = None
) -> Tensor:
    x = _int64(x) if dtype is None else x.to(dtype)
    axes = _norm_axes(dim, axis, x._data.ndim, "sum")
    return apply(OPS.sum, (x,), (axes, keepdim, x._data.shape))


def _int64(x: Tensor) -> Tensor:
    """Integer and bool tensors as int64, as PyTorch's sum, prod and cumsum (no wrap-around)."""
    return x if x._data.dtype.kind not in "iub" else x.to(int64)


def _extreme(op: Any, x: Tensor, dim: Any, keepdim: bool, axis: Any) -> Tensor:
    axes = _norm_axes(dim, axis, x.ndim, op.name)
    if x._data.size == 0 and (axes is None or any(x.shape[a] == 0 for a in axes)):
        raise RuntimeError(f"{op.name}: cannot reduce an empty dim of shape {x.shape}")
    return apply(op, (x,), (axes, keepdim))


def amax(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """The largest elements over `dim` (a tie shares the gradient evenly)."""
    return _extreme(OPS.amax, x, dim, keepdim, axis)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """The smallest elements over `dim` (a tie shares the gradient evenly)."""
    return _extreme(OPS.amin, x, dim, keepdim, axis)


def _count(x: Tensor, axes: tuple[int, ...] | None) -> int:
    shape = x.shape
    return math.prod(shape) if axes is None else math.prod(shape[a] for a in axes)


def mean(
    x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None, dtype: Any = None
) -> Tensor:
    """The average over `dim` (all elements by default): sum / count.

    float16 is averaged in float32, as PyTorch: the count itself (70,000) is inf in float16.
    """
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): needs a floating-point tensor, got {x.dtype}; call .float() first"
        )
    if x.dtype == float16:
        return mean(x.to(float32), dim, keepdim, axis=axis).to(float16)
    axes = _norm_axes(dim, axis, x.ndim, "mean")
    return x.sum(axes, keepdim) / _count(x, axes)


def var(
    x: Tensor,
    dim: Any = None,
    unbiased: bool = True,
    keepdim: bool = False,
    *,
    correction: int | None = None,
    axis: Any = None,
) -> Tensor:
    """Variance over `dim`; divides by n - correction (1: `unbiased`, PyTorch's default).

    As PyTorch: by max(0, n - correction), so too large a correction or an empty dim gives inf
    or nan rather than a negative variance; float16 is computed in float32.
    """
    if x.dtype == float16:
        v = var(x.to(float32), dim, unbiased, keepdim, correction=correction, axis=axis)
        return v.to(float16)
    axes = _norm_axes(dim, axis, x.ndim, "var")
    c = (1 if unbiased else 0) if correction is None else correction
    d = x - x.mean(axes, keepdim=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (d * d).sum(axes, keepdim) / builtins.max(0, _count(x, axes) - c)


def std(
    x: Tensor,
    dim: Any = None,
    unbiased: bool = True,
    keepdim: bool = False,
    *,
    correction: int | None = None,
    axis: Any = None,
) -> Tensor:
    """Standard deviation: sqrt(var), with gradient 0 where it is 0 (as PyTorch)."""
    if x.dtype == float16:  # in float32 throughout: the variance of 300s is inf in float16
        s = std(x.to(float32), dim, unbiased, keepdim, correction=correction, axis=axis)
        return s.to(float16)
    return _pow0(var(x, dim, unbiased, keepdim, correction=correction, axis=axis), 0.5)


def _pow0(v: Tensor, e: float) -> Tensor:
    """v ** e (sqrt for 1/2) whose gradient at v = 0 is 0 instead of inf, PyTorch's
    convention for std and norm.

    Both wheres are needed: the power must never see the 0, or inf * 0 = nan leaks into
    backward.
    """
    def power(t: Tensor) -> Tensor:
        return t.sqrt() if e == 0.5 else t**e

    zero = (v == 0)._data
    if not zero.any():
        return power(v)
    return where(zero, 0.0, power(where(zero, 1.0, v)))


def _pick(x: Tensor, dim: Any, keepdim: bool, largest: bool, what: str) -> Any:
    if dim is None:
        return amax(x) if largest else amin(x)
    d = _norm_dim(dim, x.ndim, what)
    if x.ndim == 0:
        return ValuesIndices(x, _new(np.asarray(0)))
    if x.shape[d] == 0:
        raise IndexError(f"{what}: dim {d} of shape {x.shape} is empty; there is no {what}")
    data = x._data
    idx = np.argmax(data, axis=d, keepdims=True) if largest else np.argmin(
        data, axis=d, keepdims=True
    )
    values = gather(x, d, idx)  # the gradient goes to the picked entry only; dtype kept
    if not keepdim:
        values, idx = values.squeeze(d), np.squeeze(idx, axis=d)
    return ValuesIndices(values, _new(idx))


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The largest element; with `dim`, a `(values, indices)` pair (as PyTorch).

    `max(other_tensor)` is the elementwise maximum.
    """
    if isinstance(dim, Tensor):
        return x.maximum(dim)
    return _pick(x, dim, keepdim, True, "max")


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The smallest element; with `dim`, a `(values, indices)` pair (as PyTorch)."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    return _pick(x, dim, keepdim, False, "min")


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim`, stable: the max is taken out before exp."""
    axes = _norm_axes(dim, None, x.ndim, "logsumexp")
    kept = tuple(1 if axes is None or i in axes else n for i, n in enumerate(x.shape))
    empty = any(n == 0 for i, n in enumerate(x.shape) if axes is None or i in axes)
    m = np.zeros(kept) if empty else np.amax(x._data, axis=axes, keepdims=True)
    m = _new(np.where(np.isfinite(m), m, 0).astype(x.dtype))  # a constant: no gradient
    s = (x - m).exp().sum(axes, keepdim).log()
    return s + (m if keepdim else m.reshape(s.shape))


def log_softmax(x: Tensor, dim: int | None = -1) -> Tensor:
    """log(softmax(x)) computed stably: logits of 1e4 give no inf or nan.

    `dim=None` picks PyTorch's legacy implicit dim (0 for 0-, 1- and 3-d tensors, else 1).
    """
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
    d = _norm_dim(dim, x.ndim, "log_softmax")
    return apply(OPS.log_softmax, (_floating(x),), (d if x.ndim else None,))


def softmax(x: Tensor, dim: int | None = -1) -> Tensor:
    """exp(x) / sum(exp(x)) over `dim`, via the stable log_softmax."""
    return x.log_softmax(dim).exp()


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The product over `dim` (all elements by default), as a tree of multiplications.

    Built from `*` alone, so zeros in the input need no special case in the gradient.
    """
    x = _int64(x)
    if dim is None:
        out = prod(x.reshape(-1), 0)
        return out.reshape((1,) * x.ndim) if keepdim else out
    d = _norm_dim(dim, x.ndim, "prod")
    if x.ndim == 0:
        return x * 1  # a new tensor, never the input itself
    nd = x.ndim
    if x.shape[d] == 1:
        x = x * 1
    while x.shape[d] > 1:
        n = x.shape[d]
        half = n // 2
        y = x[_slice(nd, d, 0, half)] * x[_slice(nd, d, half, 2 * half)]
        x = cat([y, x[_slice(nd, d, 2 * half, n)]], d) if n % 2 else y
    if x.shape[d] == 0:  # the empty product is 1; `+ 0 * sum` keeps it in the graph
        x = x.sum(d, keepdim=True) * 0 + 1
    return x if keepdim else x.squeeze(d)


def norm(x: Tensor, p: float | str = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The p-norm over `dim` (all elements by default); its gradient at 0 is 0, as PyTorch.

    p = inf is the largest |x|, -inf the smallest, 0 the count of non-zeros (gradient 0);
    "fro" (Frobenius) is the 2-norm of the elements.
    """
    axes = _norm_axes(dim, None, x.ndim, "norm")
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported (a number, inf, -inf or 'fro'; "
                             "the nuclear norm 'nuc' needs singular values, which this library "
                             "does not compute)")
        p = 2
    if p == 2:
        return _pow0((x * x).sum(axes, keepdim), 0.5)
    if p == 1:
        return x.abs().sum(axes, keepdim)
    if p == math.inf:
        return amax(x.abs(), axes, keepdim)
    if p == -math.inf:
        return amin(x.abs(), axes, keepdim)
    if p == 0:
        return x.sign().abs().sum(axes, keepdim)
    return _pow0(_pow0(x.abs(), p).sum(axes, keepdim), 1.0 / p)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (over the flattened tensor when dim is None)."""
    if dim is None:
        return _new(np.asarray(np.argmax(x._data)))
    d = _norm_dim(dim, x.ndim, "argmax")
    return _new(np.asarray(np.argmax(x._data, axis=d, keepdims=keepdim)))


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if dim is None:
        return _new(np.asarray(np.argmin(x._data)))
    d = _norm_dim(dim, x.ndim, "argmin")
    return _new(np.asarray(np.argmin(x._data, axis=d, keepdims=keepdim)))


def _scan(x: Tensor, d: int, combine: Any, fill: float) -> Tensor:
    """Running `combine` along dim d, as log2(n) rounds of "combine with a copy shifted by
    1, 2, 4, ..." (the shifted-in entries are `fill`, combine's identity): a parallel prefix
    scan of ordinary ops, so its gradient (and the next) comes out of the chain rule."""
    n, nd, step = x.shape[d], x.ndim, 1
    if n < 2:
        return x * 1  # a new tensor, never the input itself (only views may share memory)
    while step < n:
        shape = list(x.shape)
        shape[d] = step
        pad = _new(np.full(shape, fill, dtype=x.dtype))
        x = combine(x, cat([pad, x[_slice(nd, d, 0, n - step)]], d))
        step *= 2
    return x


def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along `dim` (a parallel prefix scan of adds and slices)."""
    if dtype is not None:
        x = x.to(dtype)
    x = _int64(x)
    d = _norm_dim(dim, x.ndim, "cumsum")
    if x.ndim == 0:
        return x * 1
    return _scan(x, d, lambda a, b: a + b, 0)


def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along `dim`; built of `*`, so zeros need no special case."""
    if dtype is not None:
        x = x.to(dtype)
    x = _int64(x)
    d = _norm_dim(dim, x.ndim, "cumprod")
    if x.ndim == 0:
        return x * 1
    return _scan(x, d, lambda a, b: a * b, 1)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along `dim`, stable: a running logaddexp."""
    x = _floating(x)
    d = _norm_dim(dim, x.ndim, "logcumsumexp")
    if x.ndim == 0:
        return x * 1
    return _scan(x, d, logaddexp, -np.inf)


def _cumpick(x: Tensor, dim: int, largest: bool, what: str) -> ValuesIndices:
    d = _norm_dim(dim, x.ndim, what)
    if x.ndim == 0:
        return ValuesIndices(x * 1, _new(np.asarray(0)))
    data = x._data
    run = (np.maximum if largest else np.minimum).accumulate(data, axis=d)
    shape = [1] * x.ndim
    shape[d] = x.shape[d]
    pos = np.broadcast_to(np.arange(x.shape[d]).reshape(shape), data.shape)
    # the latest place the running extreme was reached (ties: the last one, as PyTorch)
    idx = np.maximum.accumulate(np.where(data == run, pos, 0), axis=d)
    return ValuesIndices(gather(x, d, idx), _new(idx.astype(np.int64)))


def cummax(x: Tensor, dim: int) -> ValuesIndices:
    """The running maximum along `dim` and where it was reached; the gradient goes there."""
    return _cumpick(x, dim, True, "cummax")


def cummin(x: Tensor, dim: int) -> ValuesIndices:
    """The running minimum along `dim` and where it was reached."""
    return _cumpick(x, dim, False, "cummin")


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort `x` along `dim` (ties keep their order)."""
    d = _norm_dim(dim, x.ndim, "argsort")
    return _new(np.asarray(_order(x, d, descending), dtype=np.int64))


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The k-th smallest entry along `dim` (k from 1) and its index; the gradient goes there."""
    d = _norm_dim(dim, x.ndim, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue: k={k} is out of range for dim {d} of size {n} "
                         "(k counts from 1)")
    if x.ndim == 0:
        return ValuesIndices(x * 1, _new(np.asarray(0)))
    idx = np.take(_order(x, d, False), [k - 1], axis=d)
    values, idx = gather(x, d, idx), idx.astype(np.int64)
    if not keepdim:
        values, idx = values.squeeze(d), np.squeeze(idx, axis=d)
    return ValuesIndices(values, _new(idx))


def median(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (of the flattened tensor, or along `dim` with its index), as PyTorch:
    an element of the input, never an average of two."""
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError("median: the tensor is empty")
        flat = x.reshape(-1)
        return kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
    d = _norm_dim(dim, x.ndim, "median")
    n = x.shape[d] if x.ndim else 1
    return kthvalue(x, (n + 1) // 2, d, keepdim)


def var_mean(x: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
             correction: int | None = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim`, as torch.var_mean."""
    return (var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim))


def std_mean(x: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
             correction: int | None = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over `dim`, as torch.std_mean."""
    return (std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim))


def aminmax(x: Tensor, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
    """(amin, amax) over `dim` (all elements by default); ties share the gradient."""
    return MinMax(amin(x, dim, keepdim), amax(x, dim, keepdim))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """The k largest (or smallest) entries along `dim` and their indices, largest first."""
    d = _norm_dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dim {d} of size {n}")
    order = _order(x, d, descending=largest)
    idx = np.take(order, np.arange(k), axis=d) if x.ndim else order
    return ValuesIndices(gather(x, d, idx) if x.ndim else x, _new(idx))


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = True) -> Any:
    """The entries sorted along `dim` and where each came from (ties keep their order)."""
    d = _norm_dim(dim, x.ndim, "sort")
    if x.ndim == 0:
        return ValuesIndices(x, _new(np.asarray(0)))
    idx = _order(x, d, descending)
    return ValuesIndices(gather(x, d, idx), _new(idx))


def _order(x: Tensor, d: int, descending: bool) -> np.ndarray:
    data = x._data
    if x.ndim == 0:
        return np.asarray(0)
    if descending:  # a stable descending order: sort the reversed axis, then map back
        n = data.shape[d]
        rev = np.flip(data, d)
        order = np.flip(np.argsort(rev, axis=d, kind="stable"), d)
        return (n - 1) - order
    return np.argsort(data, axis=d, kind="stable")
