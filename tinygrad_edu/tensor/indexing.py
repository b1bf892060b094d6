"""Indexing and selecting: t[idx], where, gather, index_select, masked_fill, index_put, ...

Each function takes the Tensor first and is bound as a Tensor method in methods.py, except the
free function `where`. Indexing and `where` are primitives (rows of ops.py); everything else
selects through them: no derivative code here, the chain rule does it all (indexing's
gradient adds up repeated picks, and `t[idx] = v` records an `index_put`, a `where`).
An index follows PyTorch's rule, not numpy's, where they differ (`_index`).
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


def _index(idx: Any, shape: tuple[int, ...]) -> tuple:
    """A PyTorch index as the numpy index that picks the same elements in the same layout.

    Tensors and lists become arrays (0-d integer Tensors count as ints, as in PyTorch). The two
    rules differ in one place: PyTorch applies ints first, as selects that drop their dim, and
    only then advanced indexing, so `x[0, :, [0, 2]]` on (2, 3, 4) is (3, 2); numpy counts the
    int as an advanced index separated from the list by the slice, which puts the broadcast
    dims first: (2, 3). When ints and arrays meet, the index is rewritten as one of integer
    arrays broadcast to PyTorch's result layout (`_as_arrays`).
    """
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    ints = arrays = False
    for i in idx:
        if isinstance(i, Tensor):
            i = i._data
            if i.ndim == 0 and i.dtype.kind in "iu":
                i = int(i)
        elif isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray):
            if i.dtype.kind not in "biu":
                raise IndexError(f"indexing: index arrays must be integer or bool, got {i.dtype}")
            arrays = True
        elif isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
            ints = True
        out.append(i)
    if arrays and (ints or any(i is Ellipsis for i in out)):
        # numpy counts an Ellipsis as separating the arrays around it even where it stands
        # for no dim; PyTorch (and _as_arrays) only counts the dims it stands for
        return _as_arrays(out, shape)
    return tuple(out)


def _as_arrays(idx: list, shape: tuple[int, ...]) -> tuple:
    """An index of ints, slices, None, Ellipsis and arrays as integer arrays (one per dim of
    `shape`) that broadcast to PyTorch's result: ints drop their dim, each slice and None
    keeps one, and the arrays' broadcast dims stand where the first array is if the arrays are
    adjacent once the ints are gone, else first."""
    if any(isinstance(i, (bool, np.bool_)) for i in idx):
        raise IndexError("indexing: a Python bool mixed with ints and index arrays is not "
                         "supported; index in two steps")
    flat: list = []  # bool masks become the integer arrays of their True positions
    for i in idx:
        flat.extend(np.nonzero(i) if isinstance(i, np.ndarray) and i.dtype.kind == "b" else [i])
    is_arr = [isinstance(i, np.ndarray) for i in flat]
    ellipses = [k for k, i in enumerate(flat) if not is_arr[k] and i is Ellipsis]
    used = sum(1 for k, i in enumerate(flat) if is_arr[k] or i not in (None, Ellipsis))
    if used > len(shape) or len(ellipses) > 1:
        raise IndexError(f"too many indices for a tensor of {len(shape)} dims")
    fill = [slice(None)] * (len(shape) - used)
    if ellipses:
        flat[ellipses[0] : ellipses[0] + 1] = fill
    else:
        flat += fill
    kept = [i for i in flat if isinstance(i, np.ndarray) or not isinstance(i, (int, np.integer))]
    arrays = [k for k, i in enumerate(kept) if isinstance(i, np.ndarray)]
    block = np.broadcast_shapes(*(kept[k].shape for k in arrays))
    adjacent = arrays == list(range(arrays[0], arrays[-1] + 1))
    before = arrays[0] if adjacent else 0  # the dims (slices, None) in front of the block
    rank = len(kept) - len(arrays) + len(block)
    out, j = [], 0  # j: which slice or None of kept this is
    for i in flat:
        if isinstance(i, np.ndarray):
            lead = (1,) * (before + len(block) - i.ndim)
            out.append(i.reshape(lead + i.shape + (1,) * (rank - before - len(block))))
            continue
        if isinstance(i, slice):
            r = j if j < before else j + len(block)  # its dim in the result
            n = shape[len(out)]
            out.append(np.arange(n)[i].reshape([-1 if d == r else 1 for d in range(rank)]))
        elif i is not None:
            out.append(i)  # an int: a 0-d index that broadcasts (numpy checks its range)
            continue
        j += 1  # None gets its size-1 dim from broadcasting and indexes no dim
    return tuple(out)


def getitem(x: Tensor, idx: Any) -> Tensor:
    index = _index(idx, x._data.shape)
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


def _int_array(index: Any, what: str) -> np.ndarray:
    """An index tensor (or array, or list) as an integer array; other dtypes raise."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{what}: index must be an integer tensor, got {idx.dtype}")
    return idx


def _int_index(index: Any, what: str, size: int, d: int) -> np.ndarray:
    """An index tensor checked against [0, size): negative indices raise, as PyTorch's gather
    and index_select (numpy would count them from the end)."""
    idx = _int_array(index, what)
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(
            f"{what}: index {bad} is out of bounds for dim {d} with size {size} (valid: 0.."
            f"{size - 1}; negative indices are not counted from the end here, as in PyTorch)"
        )
    return idx


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for other dims), as torch.gather."""
    d = _norm_dim(dim, x.ndim, "gather")
    idx = _int_index(index, "gather", x.shape[d] if x.ndim else 1, d)
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
    d = _norm_dim(dim, x.ndim, "index_select")
    idx = _int_index(index, "index_select", x.shape[d] if x.ndim else 1, d).reshape(-1)
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
