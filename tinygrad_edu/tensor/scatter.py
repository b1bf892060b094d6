"""Writing by index: scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill,
masked_select, take.

Everything here is indexing and `index_add` (ops.py's "zeros with g added at idx", whose VJP
is reading g back at idx), so the gradients come from those rules: no derivative code. A
write that hits one place twice (scatter, index_copy with a repeated index) is refused, as for
`t[idx] = v`: which value PyTorch keeps is unspecified, so no gradient can be defined.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dims import _norm_dim
from .indexing import _int_array, _mask, index_put
from .tensor import Tensor, _lift, _new

__all__ = ["scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
           "masked_select", "take"]


def _grid(x: Tensor, dim: int, index: Any, what: str) -> tuple[int, np.ndarray, tuple]:
    """dim, the index array and the advanced index that puts entry (i, j, ..) of `index` at
    (index[i][j], j, ..) for dim 0 (and likewise for other dims), as scatter reads it."""
    idx = _int_array(index, what)
    d = _norm_dim(dim, x.ndim, what)
    if idx.ndim == 0 and x.ndim:  # one index (as the tutorials' one-hot) names one place
        idx = idx.reshape((1,) * x.ndim)
    if idx.ndim != x.ndim and not (x.ndim == 0 and idx.ndim <= 1):
        raise ValueError(f"{what}: index has {idx.ndim} dims but the input has {x.ndim}; "
                         "they must have the same number")
    for a in range(idx.ndim):
        if a != d and idx.shape[a] > x.shape[a]:
            raise ValueError(f"{what}: index shape {idx.shape} exceeds the input's {x.shape} "
                             f"in dim {a}")
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{what}: index {int(idx.max() if idx.max() >= n else idx.min())} is "
                         f"out of range for dim {d} of size {n}")
    grid = []
    for a in range(idx.ndim):
        if a == d:
            grid.append(idx % n if n else idx)
        else:
            shape = [1] * idx.ndim
            shape[a] = idx.shape[a]
            grid.append(np.broadcast_to(np.arange(idx.shape[a]).reshape(shape), idx.shape))
    return d, idx, tuple(grid)


def _src(src: Any, x: Tensor, idx: np.ndarray, what: str) -> Tensor:
    """The part of `src` that index covers (src[:i, :j, ..]), or a number broadcast to it."""
    if not isinstance(src, Tensor):
        return _lift(src, x).expand(*idx.shape)
    if src.ndim != idx.ndim or any(s < i for s, i in zip(src.shape, idx.shape)):
        raise ValueError(f"{what}: src shape {src.shape} must be at least the index shape "
                         f"{idx.shape} in every dim")
    part = src[tuple(slice(0, n) for n in idx.shape)]
    return part.to(x.dtype)


def scatter(x: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """x with x[index[i][j]][j] = src[i][j] (for dim 0), as torch.scatter; `src` may be a
    number (or `value=`). `reduce='add'` or `'multiply'` combines instead of replacing."""
    if src is None:
        src = value
    if reduce is not None:
        how = {"add": "sum", "multiply": "prod"}.get(reduce)
        if how is None:
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        return scatter_reduce(x, dim, index, src if isinstance(src, Tensor) else
                              _lift(src, x).expand(*_int_array(index, "scatter").shape), how)
    _, idx, grid = _grid(x, dim, index, "scatter")
    return index_put(x, grid, _src(src, x, idx, "scatter"))


def scatter_add(x: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """x with src[i][j] added at [index[i][j]][j] (for dim 0); repeated indices add up."""
    _, idx, grid = _grid(x, dim, index, "scatter_add")
    return x + _src(src, x, idx, "scatter_add")._index_add(grid, x.shape)


def _hits(x: Tensor, grid: tuple) -> np.ndarray:
    hits = np.zeros(x.shape, dtype=np.int64)
    np.add.at(hits, grid, 1)
    return hits


def scatter_reduce(x: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Combine the src values sent to each place (and x's own, with include_self) by
    'sum', 'mean', 'amax', 'amin' or 'prod', as torch.scatter_reduce; places no index names
    keep x. amax and amin share the gradient among ties, as PyTorch."""
    _, idx, grid = _grid(x, dim, index, "scatter_reduce")
    s = _src(src, x, idx, "scatter_reduce")
    hits = _hits(x, grid)
    hit = hits > 0
    own = x if include_self else x.where(~hit, 0)  # what x contributes
    if reduce in ("sum", "mean"):
        total = own + s._index_add(grid, x.shape)
        if reduce == "sum":
            return total
        count = np.where(hit, hits + (1 if include_self else 0), 1).astype(x.dtype)
        if x.dtype.kind != "f":
            return _new(np.floor_divide(total._data, count).astype(x.dtype))
        return total / _new(count)
    if reduce in ("amax", "amin"):
        big = reduce == "amax"
        fill = (-np.inf if big else np.inf) if x.dtype.kind == "f" else (
            np.iinfo(x.dtype).min if big else np.iinfo(x.dtype).max)
        r = np.where(hit & (not include_self), fill, x._data).astype(x.dtype)
        (np.maximum if big else np.minimum).at(r, grid, s._data)
        x_tie = (x._data == r) & (include_self | ~hit)
        s_tie = s._data == r[grid]
        ties = x_tie.astype(np.int64)
        np.add.at(ties, grid, s_tie)
        ties = np.maximum(ties, 1).astype(x.dtype)
        if x.dtype.kind != "f":
            return _new(r)
        wx = _new(x_tie / ties)  # each tied value takes an equal share (constants)
        ws = _new(s_tie / ties[grid])
        return x * wx + (s * ws)._index_add(grid, x.shape)
    if reduce == "prod":
        r = np.where(hit & (not include_self), 1, x._data).astype(x.dtype)
        np.multiply.at(r, grid, s._data)
        if x.dtype.kind != "f" or not (x.requires_grad or s.requires_grad):
            return _new(r)
        if (s._data == 0).any() or (include_self and (x._data[hit] == 0).any()):
            raise NotImplementedError(
                "scatter_reduce(reduce='prod'): the gradient is implemented only when no value "
                "sent to a place is 0; use torch's formula by hand or avoid zeros"
            )
        # out = r; d out/d v = out / v for every factor v (first derivatives only)
        with np.errstate(divide="ignore", invalid="ignore"):  # r / x is kept only where hit
            wx = np.where(hit, r / x._data if include_self else 0, 1).astype(x.dtype)
        ws = (r[grid] / s._data).astype(x.dtype)
        dx, ds = x - x.detach(), s - s.detach()  # zero values that carry the gradient
        return _new(r) + dx * _new(wx) + (ds * _new(ws))._index_add(grid, x.shape)
    raise ValueError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', "
                     f"got {reduce!r}")


def _along(x: Tensor, dim: int, index: Any, what: str) -> tuple[int, np.ndarray, tuple]:
    idx = _int_array(index, what).reshape(-1)
    d = _norm_dim(dim, x.ndim, what)
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{what}: index out of range for dim {d} of size {n}")
    return d, idx, (slice(None),) * d + (idx % n if n else idx,)


def index_add(x: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """x with source's slices added at `index` along `dim` (repeated indices add up)."""
    _, _, at = _along(x, dim, index, "index_add")
    src = source if isinstance(source, Tensor) else _lift(source, x)
    return x + (src.to(x.dtype) * alpha)._index_add(at, x.shape)


def index_copy(x: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """x with the slices at `index` along `dim` replaced by source's."""
    _, _, at = _along(x, dim, index, "index_copy")
    return index_put(x, at, source)


def index_fill(x: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """x with the slices at `index` along `dim` set to `value`."""
    _, _, at = _along(x, dim, index, "index_fill")
    mask = np.zeros(x.shape, dtype=bool)
    mask[at] = True
    return x.masked_fill(mask, value)


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The entries where `mask` (broadcast with x) is True, as a 1-D tensor."""
    m = _mask(mask)
    shape = np.broadcast_shapes(x.shape, m.shape)
    xe = x if x.shape == shape else x.expand(*shape)
    return xe[np.broadcast_to(m, shape)]


def take(x: Tensor, index: Any) -> Tensor:
    """x flattened, read at `index` (any shape): as torch.take."""
    idx = _int_array(index, "take")
    n = x.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take: index out of range for a tensor of {n} elements")
    return x.reshape(-1)[idx % n if n else idx]
