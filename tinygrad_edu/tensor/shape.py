"""Shape: reshape, permute, transpose, expand, flatten, squeeze, repeat, split, cat, pad, ...

Each function takes the Tensor first and is bound as a Tensor method in methods.py, except the
free functions `cat` and `stack`. reshape, permute, expand and cat are primitives (rows of
ops.py); the rest are compositions of them and of indexing: no derivative code here, the chain
rule does it all (`repeat` is a reshape and an expand, `pad` the gradient of indexing,
`tril` a `where`).
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .dims import _norm_axes, _norm_dim, _shape_arg
from .dtypes import promote
from .ops import OPS
from .tensor import Tensor, _new, apply, tensor

__all__ = [
    "reshape", "view", "view_as", "reshape_as", "permute", "transpose", "T", "mT", "expand",
    "expand_as",
    "broadcast_to", "flatten", "squeeze", "unsqueeze", "repeat", "split", "chunk", "pad", "flip",
    "tril", "triu", "cat", "stack", "roll", "unflatten", "repeat_interleave", "meshgrid",
    "movedim", "swapaxes", "t", "narrow", "hstack", "vstack",
]


def _slice(ndim: int, dim: int, start: int, stop: int) -> tuple:
    return (slice(None),) * dim + (slice(start, stop),) + (slice(None),) * (ndim - dim - 1)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    shape = _shape_arg(shape, "reshape")
    if shape == x._data.shape:
        return x
    try:
        return apply(OPS.reshape, (x,), (shape, x._data.shape))
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} "
            f"({x._data.size} elements) into {shape}"
        ) from None


def view(x: Tensor, *shape: Any) -> Tensor:
    """reshape that never copies: a tensor whose memory does not allow it raises (PyTorch's
    rule), since writes through a silent copy would be lost."""
    new = _shape_arg(shape, "view")
    try:
        x._data.reshape(new, copy=False)
    except ValueError as err:
        if "copy" in str(err):  # (a wrong element count falls through to reshape's message)
            raise RuntimeError(
                f"view: a tensor of shape {x.shape} whose memory is not contiguous (from "
                f"transpose, permute or a stepped slice) cannot be viewed as {new}; use "
                ".reshape(), which copies when it must, or .contiguous().view()"
            ) from None
    return x.reshape(new)


def view_as(x: Tensor, other: Tensor) -> Tensor:
    return x.view(other.shape)


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    return x.reshape(other.shape)


def permute(x: Tensor, *dims: Any) -> Tensor:
    dims = _shape_arg(dims, "permute")
    n = x._data.ndim
    axes = tuple(_norm_dim(d, n, "permute") for d in dims)
    if sorted(axes) != list(range(n)):
        raise ValueError(f"permute: {dims} is not an ordering of the {n} dims of {x.shape}")
    return x._permute(axes)


def _permute(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    if axes == tuple(range(len(axes))):
        return x
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return apply(OPS.permute, (x,), (axes, tuple(inverse)))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    n = x._data.ndim
    d0, d1 = _norm_dim(dim0, n, "transpose"), _norm_dim(dim1, n, "transpose")
    axes = list(range(n))
    if n:
        axes[d0], axes[d1] = axes[d1], axes[d0]
    return x._permute(tuple(axes))


def T(x: Tensor) -> Tensor:
    """The dims in reverse order (the transpose, for a matrix)."""
    return x._permute(tuple(range(x._data.ndim - 1, -1, -1)))


def mT(x: Tensor) -> Tensor:
    """The last two dims swapped (a batch of matrices transposed)."""
    n = x._data.ndim
    if n < 2:
        raise ValueError(f"mT: needs at least 2 dims, got shape {x.shape}")
    return x._permute((*range(n - 2), n - 1, n - 2))


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """A broadcast view to `sizes` (-1 keeps a dim); its gradient sums back."""
    sizes = _shape_arg(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: cannot expand shape {x.shape} to fewer dims {sizes}")
    shape = tuple(
        x.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(sizes)
    )
    if shape == x.shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
        ok = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"expand: shape {x.shape} cannot be expanded to {shape}")
    return apply(OPS.expand, (x,), (shape,))


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return x.expand(other.shape)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    return x.expand(tuple(shape))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    if x.ndim == 0:
        return x.reshape(1)
    s = _norm_dim(start_dim, x.ndim, "flatten")
    e = _norm_dim(end_dim, x.ndim, "flatten")
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
            d for d in (_norm_axes(dim, None, x.ndim, "squeeze") or ()) if x.shape[d] == 1
        }
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in dims))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A new size-1 dim at `dim` (negative counts from the end of the result)."""
    d = _norm_dim(dim, x.ndim + 1, "unsqueeze")
    shape = list(x.shape)
    shape.insert(d, 1)
    return x.reshape(tuple(shape))


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor `sizes[i]` times along dim i (as torch.repeat, i.e. numpy's tile)."""
    reps = _shape_arg(sizes, "repeat")
    if len(reps) < x.ndim:
        raise ValueError(f"repeat: need at least {x.ndim} sizes for shape {x.shape}, got {reps}")
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    interleaved = tuple(v for n in shape for v in (1, n))
    wide = tuple(v for r, n in zip(reps, shape) for v in (r, n))
    out = x.reshape(interleaved).expand(wide).reshape(tuple(r * n for r, n in zip(reps, shape)))
    # new memory, as PyTorch's: reshape of the expanded view copies, except where it need not
    # (all reps 1, or only size-1 dims repeated), which would leave a view of x (or read-only)
    return out.clone() if np.may_share_memory(out._data, x._data) else out


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of `split_size` along dim (the last may be smaller), or of the given sizes."""
    d = _norm_dim(dim, x.ndim, "split")
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
    d = _norm_dim(dim, x.ndim, "chunk")
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
        out = out + _new(fill)
    return out


def flip(x: Tensor, dims: Any) -> Tensor:
    """Reverse the order along `dims`: a copy, as in PyTorch (numpy's flip is a view)."""
    axes = _norm_axes(dims, None, x.ndim, "flip") or ()
    rev = x[tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))]
    return rev.clone()


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (the rest zeroed)."""
    keep = np.tril(np.ones(x.shape[-2:], dtype=bool), diagonal)
    return x.where(keep, _new(np.zeros((), x.dtype)))  # a zero of x's dtype: bool stays bool


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (the rest zeroed)."""
    keep = np.triu(np.ones(x.shape[-2:], dtype=bool), diagonal)
    return x.where(keep, _new(np.zeros((), x.dtype)))


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift entries along `dims` by `shifts`, wrapping around: two slices joined by cat."""
    if dims is None:
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    for k, dim in zip(shifts, dims):
        d = _norm_dim(dim, x.ndim, "roll")
        n = x.shape[d]
        k = k % n if n else 0
        if k:
            x = cat([x[_slice(x.ndim, d, n - k, n)], x[_slice(x.ndim, d, 0, n - k)]], d)
    return x * 1 if x.dtype.kind != "b" else _new(x._data.copy())


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim `dim` into `sizes` (one may be -1), the inverse of flatten."""
    d = _norm_dim(dim, x.ndim, "unflatten")
    sizes = tuple(sizes)
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) == 1 and known:
        sizes = tuple(x.shape[d] // known if n == -1 else n for n in sizes)
    if math.prod(sizes) != x.shape[d]:
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to dim {d}'s size "
                         f"{x.shape[d]} (shape {x.shape})")
    return x.reshape(*x.shape[:d], *sizes, *x.shape[d + 1:])


def repeat_interleave(x: Tensor, repeats: Any, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each entry repeated `repeats` times along `dim` (flattened when dim is None):
    an index with repeated positions, so each copy's gradient flows back to its source."""
    if dim is None:
        x, dim = x.reshape(-1), 0
    d = _norm_dim(dim, x.ndim, "repeat_interleave")
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if reps.dtype.kind not in "iu" or (reps < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be non-negative ints, got {repeats}")
    idx = np.repeat(np.arange(x.shape[d]), reps)
    return x[(slice(None),) * d + (idx,)]


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: 'ij' (matrix, the default) or 'xy' (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    for t in ts:
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-d or 1-D tensors, got shape {t.shape}")
    ts = [t.reshape(-1) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    grids = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        grids.append(t.reshape(*view).expand(*shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]  # 'xy': the grids are (len(y), len(x), ...)
    return tuple(grids)


def movedim(x: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims `source` to positions `destination`, the others keeping their order."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {src} and destination {dst} differ in length")
    src = tuple(_norm_dim(a, x.ndim, "movedim") for a in src)
    dst = tuple(_norm_dim(a, x.ndim, "movedim") for a in dst)
    rest = iter(a for a in range(x.ndim) if a not in src)
    where = dict(zip(dst, src))
    return x.permute(*[where[i] if i in where else next(rest) for i in range(x.ndim)])


def t(x: Tensor) -> Tensor:
    """The transpose of a matrix (a 0-d or 1-D tensor as it is), as torch.t."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dims, got shape {x.shape}; "
                         "use transpose(dim0, dim1)")
    return x.transpose(0, 1) if x.ndim == 2 else x


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    return transpose(x, axis0, axis1)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """`length` entries of dim `dim` from `start`: a view, as torch.narrow."""
    d = _norm_dim(dim, x.ndim, "narrow")
    n = x.shape[d]
    start = start + n if start < 0 else start
    if not (0 <= start and length >= 0 and start + length <= n):
        raise IndexError(f"narrow: start {start} + length {length} exceeds dim {d} of size {n}")
    return x[_slice(x.ndim, d, start, start + length)]


# ---- joining tensors (free functions) ---------------------------------------------------------


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (all other dims must match)."""
    ts = list(tensors)
    if not ts:
        raise ValueError("cat: needs at least one tensor")
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in ts]
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = promote(dt, t.dtype)
    ts = [t.to(dt) for t in ts]
    d = _norm_dim(dim, ts[0].ndim, "cat")
    for t in ts[1:]:
        if t.ndim != ts[0].ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if i != d
        ):
            shapes = ", ".join(str(u.shape) for u in ts)
            raise ValueError(f"cat: shapes {shapes} differ outside dim {d}")
    bounds = tuple(np.cumsum([0] + [t.shape[d] for t in ts]).tolist())
    return apply(OPS.cat, tuple(ts), (d, bounds))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shape tensors along a new dim."""
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    if not ts:
        raise ValueError("stack: needs at least one tensor")
    shapes = {t.shape for t in ts}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    d = _norm_dim(dim, ts[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in ts], d)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 0, 1-D tensors as rows."""
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    return cat([t.reshape(1, -1) if t.ndim == 1 else t for t in ts], 0)
