"""Ops composed of primitives: no derivative code here, the chain rule does it all.

Each function takes a Tensor first and is a Tensor method too (`x.softmax(dim=1)`). Because
they only combine primitives of ops.py, their gradients (and second derivatives) are right as
soon as the primitives' are. A few show a standard trick:

- `softmax = exp(log_softmax)`, and `logsumexp` subtracts the (detached) max first, so logits
  of 1e4 do not overflow;
- `max(dim)` picks the arg-max with a one-hot `where`, so the gradient goes to that one entry,
  while `amax` shares it among ties (both as PyTorch);
- `clamp`, `leaky_relu` and `t[idx] = v` are `where`s, `minimum(a, b) = -maximum(-a, -b)`.
"""

from __future__ import annotations

import builtins
import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import tensor as _t

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "mean", "var", "std", "max", "min", "amin", "minimum", "logsumexp", "softmax", "prod",
    "clamp", "leaky_relu", "gelu", "square", "rsqrt", "flatten", "squeeze", "unsqueeze",
    "repeat", "split", "chunk", "pad", "norm", "index_put", "masked_fill", "gather",
    "index_select", "flip", "tril", "triu", "topk", "sort", "outer", "mm", "bmm", "reciprocal",
    "cumsum",
]


def _count(x: Tensor, axes: tuple[int, ...] | None) -> int:
    shape = x.shape
    return math.prod(shape) if axes is None else math.prod(shape[a] for a in axes)


def _slice(ndim: int, dim: int, start: int, stop: int) -> tuple:
    return (slice(None),) * dim + (slice(start, stop),) + (slice(None),) * (ndim - dim - 1)


# ---- reductions ---------------------------------------------------------------------------------


def mean(
    x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None, dtype: Any = None
) -> Tensor:
    """The average over `dim` (all elements by default): sum / count."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): needs a floating-point tensor, got {x.dtype}; call .float() first"
        )
    axes = _t._norm_axes(dim, axis, x.ndim, "mean")
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
    """Variance over `dim`; divides by n - 1 (`unbiased`, PyTorch's default) or by n."""
    axes = _t._norm_axes(dim, axis, x.ndim, "var")
    c = (1 if unbiased else 0) if correction is None else correction
    d = x - x.mean(axes, keepdim=True)
    return (d * d).sum(axes, keepdim) / (_count(x, axes) - c)


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
    return _sqrt0(var(x, dim, unbiased, keepdim, correction=correction, axis=axis))


def _sqrt0(v: Tensor) -> Tensor:
    """sqrt whose gradient at 0 is 0 instead of inf, PyTorch's convention for std and norm.

    Both wheres are needed: sqrt must never see the 0, or inf * 0 = nan leaks into backward.
    """
    zero = (v == 0)._data
    if not zero.any():
        return v.sqrt()
    return _t.where(zero, 0.0, _t.where(zero, 1.0, v).sqrt())


def _pick(x: Tensor, dim: Any, keepdim: bool, largest: bool, what: str) -> Any:
    if dim is None:
        return x.amax() if largest else amin(x)
    d = _t._norm_dim(dim, x.ndim, what)
    if x.ndim == 0:
        return _t.ValuesIndices(x, _t._new(np.asarray(0)))
    if x.shape[d] == 0:
        raise IndexError(f"{what}: dim {d} of shape {x.shape} is empty; there is no {what}")
    data = x._data
    idx = np.argmax(data, axis=d, keepdims=True) if largest else np.argmin(
        data, axis=d, keepdims=True
    )
    where = [1] * x.ndim
    where[d] = x.shape[d]
    onehot = np.arange(x.shape[d]).reshape(where) == idx  # True at the picked entry only
    values = x.where(onehot, 0).sum(d, keepdim)
    indices = idx if keepdim else np.squeeze(idx, axis=d)
    return _t.ValuesIndices(values, _t._new(indices))


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The largest element; with `dim`, a `(values, indices)` pair (as PyTorch).

    `max(other_tensor)` is the elementwise maximum.
    """
    if isinstance(dim, _t.Tensor):
        return x.maximum(dim)
    return _pick(x, dim, keepdim, True, "max")


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The smallest element; with `dim`, a `(values, indices)` pair (as PyTorch)."""
    if isinstance(dim, _t.Tensor):
        return minimum(x, dim)
    return _pick(x, dim, keepdim, False, "min")


def amin(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """The smallest elements over `dim` (a tie shares the gradient evenly)."""
    return -(-x).amax(dim, keepdim, axis=axis)


def minimum(x: Tensor, other: Any) -> Tensor:
    """Elementwise minimum; a tie splits the gradient evenly, as PyTorch."""
    if not isinstance(other, (_t.Tensor, numbers.Real)):
        other = _t.Tensor(other)
    return -(-x).maximum(-other)


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim`, stable: the max is taken out before exp."""
    axes = _t._norm_axes(dim, None, x.ndim, "logsumexp")
    kept = tuple(1 if axes is None or i in axes else n for i, n in enumerate(x.shape))
    empty = any(n == 0 for i, n in enumerate(x.shape) if axes is None or i in axes)
    m = np.zeros(kept) if empty else np.amax(x._data, axis=axes, keepdims=True)
    m = _t._new(np.where(np.isfinite(m), m, 0).astype(x.dtype))  # a constant: no gradient
    s = (x - m).exp().sum(axes, keepdim).log()
    return s + (m if keepdim else m.reshape(s.shape))


def softmax(x: Tensor, dim: int | None = -1) -> Tensor:
    """exp(x) / sum(exp(x)) over `dim`, via the stable log_softmax."""
    return x.log_softmax(dim).exp()


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The product over `dim` (all elements by default), as a tree of multiplications.

    Built from `*` alone, so zeros in the input need no special case in the gradient.
    """
    if dim is None:
        out = prod(x.reshape(-1), 0)
        return out.reshape((1,) * x.ndim) if keepdim else out
    d = _t._norm_dim(dim, x.ndim, "prod")
    if x.ndim == 0:
        return x
    nd = x.ndim
    while x.shape[d] > 1:
        n = x.shape[d]
        half = n // 2
        y = x[_slice(nd, d, 0, half)] * x[_slice(nd, d, half, 2 * half)]
        x = _t.cat([y, x[_slice(nd, d, 2 * half, n)]], d) if n % 2 else y
    if x.shape[d] == 0:
        shape = list(x.shape)
        shape[d] = 1
        x = _t._new(np.ones(shape, dtype=x.dtype))
    return x if keepdim else x.squeeze(d)


def norm(x: Tensor, p: float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The p-norm over `dim` (all elements by default); its gradient at 0 is 0, as PyTorch."""
    axes = _t._norm_axes(dim, None, x.ndim, "norm")
    if p == 2:
        return _sqrt0((x * x).sum(axes, keepdim))
    if p == 1:
        return x.abs().sum(axes, keepdim)
    return (x.abs() ** p).sum(axes, keepdim) ** (1.0 / p)


# ---- elementwise --------------------------------------------------------------------------------


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to [min, max]; the gradient is 1 inside (bounds included), 0 outside."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    if min is not None:
        x = x.where(~(x < min), min)
    if max is not None:
        x = x.where(~(x > max), max)
    return x


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, else negative_slope * x."""
    return x.where(x > 0, x * negative_slope)


_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the normal CDF; `approximate="tanh"` uses the tanh formula."""
    if approximate == "tanh":
        return 0.5 * x * (1 + (_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)).tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1 + (x * _SQRT_HALF).erf())


def square(x: Tensor) -> Tensor:
    return x * x


def rsqrt(x: Tensor) -> Tensor:
    return 1 / x.sqrt()


# ---- shape --------------------------------------------------------------------------------------


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    if x.ndim == 0:
        return x.reshape(1)
    s = _t._norm_dim(start_dim, x.ndim, "flatten")
    e = _t._norm_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape
    return x.reshape((*shape[:s], math.prod(shape[s : e + 1]), *shape[e + 1 :]))


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Drop size-1 dims (all of them, or those in `dim` that have size 1)."""
    if dim is None:
        dims = {i for i, n in enumerate(x.shape) if n == 1}
    else:
        dims = {
            d for d in (_t._norm_axes(dim, None, x.ndim, "squeeze") or ()) if x.shape[d] == 1
        }
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in dims))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A new size-1 dim at `dim` (negative counts from the end of the result)."""
    d = _t._norm_dim(dim, x.ndim + 1, "unsqueeze")
    shape = list(x.shape)
    shape.insert(d, 1)
    return x.reshape(tuple(shape))


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor `sizes[i]` times along dim i (as torch.repeat, i.e. numpy's tile)."""
    reps = _t._shape_arg(sizes, "repeat")
    if len(reps) < x.ndim:
        raise ValueError(f"repeat: need at least {x.ndim} sizes for shape {x.shape}, got {reps}")
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    interleaved = tuple(v for n in shape for v in (1, n))
    wide = tuple(v for r, n in zip(reps, shape) for v in (r, n))
    out = x.reshape(interleaved).expand(wide)
    return out.reshape(tuple(r * n for r, n in zip(reps, shape)))


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of `split_size` along dim (the last may be smaller), or of the given sizes."""
    d = _t._norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [step] * (n // step) + ([n % step] if n % step else [])
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to dim {d}'s size {n}")
    out, start = [], 0
    for s in sizes:
        out.append(x[_slice(x.ndim, d, start, start + s)])
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """`chunks` pieces of equal size along dim (the last may be smaller)."""
    d = _t._norm_dim(dim, x.ndim, "chunk")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    return split(x, builtins.max(1, -(-x.shape[d] // chunks)), d)


def pad(x: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """Pad with a constant, as torch.nn.functional.pad: (left, right) pairs from the last dim.

        x.pad((1, 1))          # one column on each side of the last dim
        x.pad((0, 0, 2, 0))    # two rows on top
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: needs (left, right) pairs for at most {x.ndim} dims, got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths))
    idx = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, widths))
    out = x._index_add(idx, shape)
    if value != 0:
        fill = np.full(shape, value, dtype=x.dtype)
        fill[idx] = 0
        out = out + _t._new(fill)
    return out


def index_put(x: Tensor, idx: tuple, value: Any) -> Tensor:
    """x with x[idx] replaced by value (broadcast): what `t[idx] = value` records."""
    v = value if isinstance(value, _t.Tensor) else _t._lift(value, x)
    v = v.to(x.dtype)
    target = x._data[idx].shape
    if v.shape != target:
        v = v.expand(target)
    hits = np.zeros(x.shape, dtype=np.int64)
    np.add.at(hits, idx, 1)
    if hits.max(initial=0) > 1:
        raise RuntimeError(
            "setitem: the index writes some elements more than once; which value wins is "
            "unspecified (as in PyTorch), so no gradient can be defined. Remove the repeats."
        )
    return _t.where(hits > 0, v._index_add(idx, x.shape), x)


# ---- selecting by index (all through indexing, whose gradient adds up repeated picks) ----------


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """x with `value` wherever mask is True (mask broadcasts); no gradient flows there."""
    return x.where(~_t._new(_mask(mask)), value)


def _mask(mask: Any) -> np.ndarray:
    m = mask._data if isinstance(mask, _t.Tensor) else np.asarray(mask)
    return m if m.dtype.kind == "b" else m != 0


def _int_index(index: Any, what: str) -> np.ndarray:
    idx = index._data if isinstance(index, _t.Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{what}: index must be an integer tensor, got {idx.dtype}")
    return idx


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for other dims), as torch.gather."""
    idx = _int_index(index, "gather")
    d = _t._norm_dim(dim, x.ndim, "gather")
    if idx.ndim != x.ndim:
        raise ValueError(f"gather: index has {idx.ndim} dims but the input has {x.ndim}")
    grid = []
    for a in range(x.ndim):
        if a == d:
            grid.append(idx)
        else:
            shape = [1] * x.ndim
            shape[a] = idx.shape[a]
            grid.append(np.arange(idx.shape[a]).reshape(shape))
    return x[tuple(grid)]


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The slices `index` (1-D) along `dim`."""
    idx = _int_index(index, "index_select").reshape(-1)
    d = _t._norm_dim(dim, x.ndim, "index_select")
    return x[(slice(None),) * d + (idx,)]


def flip(x: Tensor, dims: Any) -> Tensor:
    """Reverse the order along `dims`: a copy, as in PyTorch (numpy's flip is a view)."""
    axes = _t._norm_axes(dims, None, x.ndim, "flip") or ()
    rev = x[tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))]
    return rev.clone()


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (the rest zeroed)."""
    keep = np.tril(np.ones(x.shape[-2:], dtype=bool), diagonal)
    return x.where(keep, 0)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (the rest zeroed)."""
    keep = np.triu(np.ones(x.shape[-2:], dtype=bool), diagonal)
    return x.where(keep, 0)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """The k largest (or smallest) entries along `dim` and their indices, largest first."""
    d = _t._norm_dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dim {d} of size {n}")
    order = _order(x, d, descending=largest)
    idx = np.take(order, np.arange(k), axis=d) if x.ndim else order
    return _t.ValuesIndices(gather(x, d, idx) if x.ndim else x, _t._new(idx))


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = True) -> Any:
    """The entries sorted along `dim` and where each came from (ties keep their order)."""
    d = _t._norm_dim(dim, x.ndim, "sort")
    if x.ndim == 0:
        return _t.ValuesIndices(x, _t._new(np.asarray(0)))
    idx = _order(x, d, descending)
    return _t.ValuesIndices(gather(x, d, idx), _t._new(idx))


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


# ---- products -----------------------------------------------------------------------------------


def outer(x: Tensor, other: Tensor) -> Tensor:
    """The outer product of two 1-D tensors."""
    return x.reshape(-1, 1) * other.reshape(1, -1)


def mm(x: Tensor, other: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors."""
    if x.ndim != 2 or other.ndim != 2:
        raise ValueError(f"mm: needs two 2-D tensors, got shapes {x.shape} and {other.shape}")
    return x.matmul(other)


def bmm(x: Tensor, other: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors."""
    if x.ndim != 3 or other.ndim != 3:
        raise ValueError(f"bmm: needs two 3-D tensors, got shapes {x.shape} and {other.shape}")
    return x.matmul(other)


def reciprocal(x: Tensor) -> Tensor:
    return 1 / x


def cumsum(x: Tensor, dim: int) -> Tensor:
    """Running sums along `dim`, as log2(n) rounds of "add a copy shifted by 1, 2, 4, ...".

    (A parallel prefix sum: every round is plain adds and slices, so the gradient, itself a
    running sum from the other end, comes out of the chain rule.)
    """
    if x.dtype.kind == "b":
        x = x.long()
    d = _t._norm_dim(dim, x.ndim, "cumsum")
    if x.ndim == 0:
        return x * 1
    n, nd, step = x.shape[d], x.ndim, 1
    while step < n:
        shape = list(x.shape)
        shape[d] = step
        zeros = _t._new(np.zeros(shape, dtype=x.dtype))
        x = x + _t.cat([zeros, x[_slice(nd, d, 0, n - step)]], d)
        step *= 2
    return x
