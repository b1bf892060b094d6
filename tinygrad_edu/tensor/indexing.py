"""Indexing and selecting: t[idx], where, gather, index_select, masked_fill, index_put, ...

Each function takes the Tensor first and is bound as a Tensor method in methods.py, except the
free function `where`. Indexing and `where` are primitives (rows of ops.py); everything else
selects through them: no derivative code here, the chain rule does it all (indexing's
gradient adds up repeated picks, and `t[idx] = v` records an `index_put`, a `where`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dims import _norm_dim
from .ops import OPS
from .tensor import Tensor, _lift, _new, _pair, apply, tensor

__all__ = [
    "getitem", "where", "where_method", "masked_fill", "gather", "index_select", "index_put",
    "nonzero",
]


def _index(idx: Any) -> tuple:
    """A PyTorch index as a numpy one: Tensors and lists become arrays."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tensor):
            i = i._data
        elif isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind not in "biu":
            raise IndexError(f"indexing: index arrays must be integer or bool, got {i.dtype}")
        out.append(i)
    return tuple(out)


def getitem(x: Tensor, idx: Any) -> Tensor:
    index = _index(idx)
    try:
        return apply(OPS.getitem, (x,), (index, x._data.shape))
    except IndexError as err:
        raise IndexError(f"indexing a tensor of shape {x.shape}: {err}") from None


def _index_add(x: Tensor, idx: tuple, shape: tuple[int, ...]) -> Tensor:
    """Zeros of `shape` with x added at idx: the gradient of indexing, as an op."""
    return apply(OPS.index_add, (x,), (idx, shape))


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """Elementwise `x if condition else y`, broadcasting all three; gradients flow to x and y.

    `where(condition)` alone gives the indices where it holds, one tensor per dim (as torch).
    """
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if x is None and y is None:
        return tuple(_new(i) for i in np.nonzero(cond))
    if cond.dtype.kind != "b":
        cond = cond != 0
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = tensor(x)
    a, b = _pair(x, y)
    return apply(OPS.where, (a, b), (cond,))


def where_method(x: Tensor, condition: Any, other: Any) -> Tensor:
    """`x` where condition holds, else `other` (as PyTorch's `x.where(cond, y)`)."""
    return where(condition, x, other)


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """x with `value` wherever mask is True (mask broadcasts); no gradient flows there."""
    return x.where(~_new(_mask(mask)), value)


def _mask(mask: Any) -> np.ndarray:
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    return m if m.dtype.kind == "b" else m != 0


def _int_index(index: Any, what: str) -> np.ndarray:
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{what}: index must be an integer tensor, got {idx.dtype}")
    return idx


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for other dims), as torch.gather."""
    idx = _int_index(index, "gather")
    d = _norm_dim(dim, x.ndim, "gather")
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
    d = _norm_dim(dim, x.ndim, "index_select")
    return x[(slice(None),) * d + (idx,)]


def index_put(x: Tensor, idx: tuple, value: Any) -> Tensor:
    """x with x[idx] replaced by value (broadcast): what `t[idx] = value` records."""
    v = value if isinstance(value, Tensor) else _lift(value, x)
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
    return where(hits > 0, v._index_add(idx, x.shape), x)


def nonzero(x: Tensor, *, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: an (n, ndim) tensor, or one tensor per dim."""
    idx = np.nonzero(np.atleast_1d(x._data))
    if x.ndim == 0:  # a 0-d tensor has one entry at the index (), as PyTorch: (n, 0)
        if as_tuple:
            return (_new(np.zeros(int(bool(x._data)), dtype=np.int64)),)
        return _new(np.zeros((int(bool(x._data)), 0), dtype=np.int64))
    if as_tuple:
        return tuple(_new(i) for i in idx)
    return _new(np.stack(idx, axis=1) if idx else np.zeros((0, 0), dtype=np.intp))
